// Package calldemo is the demo check-in call of a local federation: it sets
// up, through the nodes' JSON API, a caregiver account on node 1 and a
// beneficiary of node 2 with a paired terminal, a daily schedule and a
// grant, and answers that terminal with a pion peer (node/calls/peer) that
// sends silence and echoes its data channel.
//
// Only the dev command (testnet/cmd/difronte-dev) and testnet's tests
// import it, so the difronte binary links no test peer. It imports
// cmd/difronte/localnet (the running federation) and node/calls.
package calldemo
