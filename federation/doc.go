// Package federation joins a coop node to the Difronte federation: the
// libp2p host (host.go), the gossipsub topics and their validators
// (federation.go, mesh.go), publishing into the node's own signed log
// (publish.go), the catch-up loop (sync.go), and membership (membership.go:
// joining the memberlist of every linked peer, the members link protocol
// in memberlink.go, redialling lost peers, the members secret).
//
// Besides gossip, nodes talk over a few direct stream protocols, all
// framed by federation/stream: signal.go (call signaling), outcome.go
// (check-in outcomes to the beneficiary's node), apply.go (qualification
// applications to an authority) and the members link. The federation only
// moves their bytes; node/calls, node/escalation and node/qualify decide
// what they mean. Every handler set on Host() serves each peer within that
// peer's budget for the protocol (streams.go, federation/budget), and the
// resource manager bounds their open streams (host.go); metrics.go counts
// gossip verdicts, catch-up sessions and refusals into Config.Metrics.
//
// It knows nothing of HTTP, beneficiaries or the UI; node implements the
// small interfaces it declares (ApplyHandler) and wires the rest. It
// imports schema and its own sub-packages (budget, catchup, clock,
// members, replica, stream, topics), never node, cmd, testnet or web.
package federation
