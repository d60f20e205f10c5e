// Package testnet builds federations of Difronte nodes in one process over
// a mocknet (NewInProc), for tests and benchmarks; its tests also drive
// real `difronte serve` processes through cmd/difronte/localnet and the
// demo call of testnet/calldemo. It links `testing`.
//
// Nothing outside testnet/ imports it or its subpackages (deps_test.go
// keeps it so): the difronte binary links no test code. The dev command
// testnet/cmd/difronte-dev (bin/difronte-dev) is `difronte testnet` plus
// the demo check-in call answered by a pion peer.
package testnet
