// Package fleet is the node's side of the terminals' agent (`difronte
// terminal run` on each refurbished PC): the device-authenticated routes
// that hand a terminal its upcoming call windows and take its heartbeats,
// the stored health of each terminal (last seen, next wake programmed,
// battery and disk) and its GET /api/v1/terminals/{id}/health, whether a
// terminal's PC switched itself on for a window (escalation's "terminale
// non acceso"), and the kit the node serves to its LAN: /terminal/install.sh
// and the node's own executable.
//
// Its routes (http.go) register on node/httpx's Router. It knows devices,
// terminals and schedules only through the functions of its Config, which
// the node's wiring fills from node/calls and node/care.
//
// node imports fleet; fleet imports node/store, node/audit, node/auth,
// node/httpx, node/problem and federation/clock, never node/api or
// node/webui.
package fleet
