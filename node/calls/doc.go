// Package calls owns the check-in video calls of a coop node: the agreed
// schedules of each beneficiary (recurrence rules in Europe/Rome, exceptions,
// one-off extra calls) and their .ics feeds, terminal pairing and device
// credentials, call grants for caregivers of other coops (signed by this
// node's key), call records, and the signaling hub that relays WebRTC offers,
// answers and candidates between caregivers' browsers and terminals, over
// WebSocket locally and over the federation's signal protocol across nodes.
//
// Media never passes through the node: only signaling does.
//
// Its routes (http.go, ws.go) register on node/httpx's Router.
//
// node imports calls; calls imports node/store, node/audit, node/auth,
// node/problem, node/httpx, schema and federation/clock, never node/api or
// node/webui; the
// federation's signal protocol reaches it through the node's wiring.
package calls
