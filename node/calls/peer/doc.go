// Package peer is a Go WebRTC peer (pion) that plays a caregiver or a
// terminal through a node's signaling sockets exactly as the browser pages
// do: for tests, benchmarks and `difronte testnet`. It stays on loopback
// when told to, so tests never touch the machine's real interfaces.
//
// Only tests, testnet and cmd import it.
package peer
