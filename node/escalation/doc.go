// Package escalation owns what happens after a check-in: the outcome a
// caregiver records (all well, or a problem with its kind, urgency and note),
// the escalation case a problem opens with the actions chosen (propose
// services, alert social services, family or other caregivers, emergency),
// the alerts that follow each beneficiary's escalation chain until someone
// acknowledges them, the check-in windows that open a case by themselves
// when a check-in is missed, and the dashboard figures of the coop.
//
// Every timer (a window's start and deadline, an alert's repeat and
// escalation) is a time stored with its record, so a restarted node resumes
// where it stopped; one scheduler goroutine sleeps until the earliest of them
// on the injected clock.Clock (tests drive it with fakeclock). Any change of
// a schedule or a terminal re-plans at once (Replan), and a change only ever
// re-arms the timer for the same or an earlier instant (sched.go).
//
// Cases, outcomes and alerts are private records of the beneficiary's node:
// they never leave it. Alerts carry a case reference, the kind and urgency,
// and whom to call back, not the beneficiary's name, address or note; they
// and the timelines name the links of the chain by role and an opaque id,
// resolved to a person only when a message goes out (links.go).
// Acknowledgement links work once and expire.
//
// Its routes (http.go: outcomes, cases, alerts, settings, the dashboard)
// register on node/httpx's Router like every domain's.
//
// node imports escalation; escalation imports node/store, node/audit,
// node/auth, node/problem, node/httpx, node/catalogue (the offers it
// proposes, catalogue.go), schema and federation/clock, never node/api or node/webui. It
// reaches calls, the registry and notifications through the small
// interfaces in deps.go.
package escalation
