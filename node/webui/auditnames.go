package webui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// The audit log as the admin reads it: actions and record types through
// the catalogues, and people by name instead of ids. The stored events
// stay opaque; names are looked up when the page is shown, which is
// itself a read of the registry, audited as lists.

// auditRow is one event as the page shows it.
type auditRow struct {
	audit.Event
	Who, What, Type string // actor, action and record type in words
	Name            string // the object's name, "" when it has none
}

func (u *ui) auditRows(r *http.Request, p *page, evs []audit.Event) []auditRow {
	n := u.auditNames(r, p, evs)
	rows := make([]auditRow, len(evs))
	for i, e := range evs {
		rows[i] = auditRow{Event: e, Who: n.actor(p, e.Actor), What: p.Word("action", string(e.Action)), Type: p.Word("audit_kind", e.Kind), Name: n.object(p, e.Kind, e.Object)}
	}
	return rows
}

// Word translates an enumerated value, or shows it as it is when the
// catalogue has no word for it (a kind a newer part of the node records):
// never a ⟦key⟧ marker.
func (p *page) Word(prefix, v string) string {
	if v == "" {
		return "—"
	}
	if key := prefix + "." + v; p.cat.has(p.Lang, key) {
		return p.T(key)
	}
	return strings.ReplaceAll(v, "_", " ")
}

// auditNamer holds the names the page's events need, read once per page.
type auditNamer struct {
	bens, cgs, terms, accounts map[string]string
	caseBen, schedBen          map[string]string // case or schedule -> beneficiary
}

func (u *ui) auditNames(r *http.Request, p *page, evs []audit.Event) auditNamer {
	a := actor(r)
	n := auditNamer{bens: map[string]string{}, cgs: map[string]string{}, terms: map[string]string{}, accounts: map[string]string{},
		caseBen: map[string]string{}, schedBen: map[string]string{}}
	kinds := map[string]bool{}
	for _, e := range evs {
		if e.Object != "" {
			kinds[e.Kind] = true
		}
		if strings.HasPrefix(e.Actor, "feed:") {
			kinds["feed"] = true
		}
	}
	// Each list is a read of the registry, audited: only those the
	// events name are read.
	named := func(ks ...string) bool { return slices.ContainsFunc(ks, func(k string) bool { return kinds[k] }) }
	all := care.Query{Limit: 500, Archived: true}
	if named("beneficiary", "beneficiaries", "call_settings", "checkin", "missed_checkin", "call_record", "escalation_settings", "case", "cases", "schedule", "schedules") {
		if bs, err := u.d.Care.ListBeneficiaries(ctx(r), a, all); err == nil {
			for _, b := range bs.Items {
				n.bens[b.ID] = b.Name
			}
		}
	}
	if named("caregiver", "caregivers", "feed") {
		if cs, err := u.d.Care.ListCaregivers(ctx(r), a, all); err == nil {
			for _, c := range cs.Items {
				n.cgs[c.ID] = c.Name
			}
		}
	}
	if named("terminal", "terminals", "pairing") {
		if ts, err := u.d.Care.ListTerminals(ctx(r), a, all); err == nil {
			for _, t := range ts.Items {
				n.terms[t.ID] = t.Label
			}
		}
	}
	for _, acc := range u.d.Auth.List() {
		if name := acc.DisplayName; name != "" {
			n.accounts[acc.Username] = name
		}
	}
	if kinds["case"] && u.d.Escalation != nil {
		if cs, err := u.d.Escalation.Cases(ctx(r), a, escalation.CaseQuery{}); err == nil {
			for _, c := range cs {
				n.caseBen[c.ID] = c.Beneficiary
			}
		}
	}
	if kinds["schedule"] && u.d.Calls != nil {
		for _, s := range u.d.Calls.Schedules(a, "") {
			n.schedBen[s.ID] = s.Beneficiary
		}
	}
	return n
}

// actor names who acted: an account by its name, the node itself, a
// terminal or a calendar feed in words.
func (n auditNamer) actor(p *page, who string) string {
	if name := n.accounts[who]; name != "" {
		return name + " (" + who + ")"
	}
	kind, id, ok := strings.Cut(who, ":")
	switch {
	case who == "system" || (ok && kind == "system"):
		return p.T("audit.actor_system")
	case ok && kind == "terminal":
		return p.T("audit.actor_terminal")
	case ok && kind == "feed":
		if name := n.cgs[id]; name != "" {
			return p.T("audit.actor_feed", "Name", name)
		}
	}
	return who
}

// object names the record an event is about, when it is a person's or
// belongs to one.
func (n auditNamer) object(p *page, kind, id string) string {
	if id == "" {
		return ""
	}
	switch kind {
	case "beneficiary", "beneficiaries", "call_settings", "checkin", "missed_checkin", "call_record", "escalation_settings":
		return n.bens[id]
	case "caregiver", "caregivers", "feed":
		return n.cgs[id]
	case "terminal", "terminals", "pairing":
		return n.terms[id]
	case "account", "accounts":
		return n.accounts[id]
	case "case", "cases":
		if b := n.bens[n.caseBen[id]]; b != "" {
			return p.T("audit.of", "Name", b)
		}
	case "schedule", "schedules":
		if b := n.bens[n.schedBen[id]]; b != "" {
			return p.T("audit.of", "Name", b)
		}
	}
	return ""
}
