// Package node is one Difronte coop node. The root package only wires:
// node.go is the start order (node.New does no I/O; Start opens every
// component and adds it to one lifecycle; Close closes them in reverse,
// HTTP first and the store last, and a failed start closes what it
// opened). The wire_*.go files hand each service the adapters it needs
// (wire_federation.go: federation, membership, catalogue view and search
// index; wire_qualify.go, wire_calls.go, wire_escalation.go). The rules
// live in the sub-packages. There is no package-level state, so many
// nodes can run in one process (see testnet).
package node
