// Package catalogue holds the coop's own offerings, as the coop admin edits
// them, and hands each change to the federation to publish (Publishing:
// offerings, the coop profile they imply, and the republish after a
// start); beside them, the federated catalogue view (listings from every
// coop's replica) and the coops of the federation as this node knows them
// (Coop). Its routes (http.go: /api/v1/offerings; coops.go:
// /api/v1/federation/peers) register on node/httpx's Router.
//
// node wires it; node/search, node/escalation and node/webui read it. It
// imports federation/replica, federation/clock, schema and node's store,
// audit, auth, problem and httpx, never node/api or node/webui.
package catalogue
