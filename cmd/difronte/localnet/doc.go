// Package localnet runs a local federation of real `difronte serve`
// processes on loopback: an authority and demo coop nodes bootstrapped
// from the first (StartProcs), the coops' demo qualifications
// (SeedQualifications), and the whole sequence of `difronte testnet` (Run).
// It drives the nodes only through their command line and JSON API.
//
// cmd/difronte imports it for `difronte testnet`; testnet's multi-process
// tests and the dev command (testnet/cmd/difronte-dev, which adds the demo
// check-in call through Run's Extra) import it too. It imports only the
// standard library: nothing of node, nothing of testnet, nothing of tests.
package localnet
