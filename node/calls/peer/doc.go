// Package peer is a Go WebRTC peer (pion) that plays a caregiver or a
// terminal through a node's signaling sockets exactly as the browser pages
// do: for tests, benchmarks and the demo terminal of `make testnet`
// (testnet/calldemo). It stays on loopback when told to, so tests never
// touch the machine's real interfaces.
//
// Only tests and testnet/... import it; the difronte binary never links it
// (testnet/deps_test.go).
package peer
