// Package testnet builds federations of Difronte nodes in one process over
// a mocknet (NewInProc), for tests and benchmarks; its tests also drive
// real `difronte serve` processes through cmd/difronte/localnet and the
// demo call of testnet/calldemo. It links `testing`.
//
// No non-test code outside testnet/ imports it or its subpackages
// (deps_test.go keeps it so): the difronte binary links no test code.
// Tests anywhere use two of its subpackages: poll, the one helper that
// waits for a condition, and nodetest, the one rig that starts whole
// nodes and links them.
//
// The dev command testnet/cmd/difronte-dev (bin/difronte-dev) is
// `difronte testnet` plus the demo check-in call answered by a pion peer.
package testnet
