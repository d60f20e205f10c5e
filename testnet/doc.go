// Package testnet builds federations of Difronte nodes, in one process or
// as real processes on loopback, with synthetic data, for tests, benchmarks
// and `difronte testnet`. Nothing imports it but tests and cmd.
package testnet
