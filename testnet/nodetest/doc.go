// Package nodetest starts real Difronte nodes for tests and links them:
// over libp2p on loopback TCP (Start), or on an in-memory libp2p network
// (Mocknet, Pair). It is the one rig behind every test that needs two or
// more whole nodes talking to each other; a test that needs something
// special (its own libp2p host, a logger, a bootstrap list, a clock)
// sets it in the node.Config it passes, and the rig fills only what is
// left unset.
//
// Only tests import it: it links `testing` and a libp2p mock network. It
// imports node (and so every domain), so a domain's internal tests
// (package calls, not calls_test) cannot use it.
package nodetest
