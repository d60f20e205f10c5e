// Package workshop is the refurbishment workshop ("officina"): the
// lifecycle of a terminal from a donated PC to one in service and back
// (the transition table and the checklist each step records, with who
// and when), the intake of a device with its one-time probe code, the
// hardware report the probe sends and the health warnings drawn from it,
// the work queue, and the work records of the people who refurbish
// (hours per device and step, their certificate, the coop's figures).
//
// The terminal record itself (label, model, state, beneficiary) stays in
// node/care; this package reaches it through the Registry interface the
// wiring adapts, and changes a state only through Registry.Move after the
// table and the checklist allowed it. Workers' records and donors are
// private: every read is audited and nothing here is ever federated.
//
// node wires it; node/webui renders it. It imports node's store, audit,
// auth, problem and httpx packages, schema and federation/clock, never
// node/api or node/webui.
package workshop
