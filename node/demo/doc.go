// Package demo seeds a believable demo coop into an empty node (Seed) and
// generates varied, valid records for benchmarks and the testnet
// (Beneficiaries, Offerings). Names, addresses and municipalities are
// Italian; every record passes the same validation as one typed by a user.
//
// node imports it for `difronte serve --demo`; bench and testnet import it
// for synthetic data. It imports node/care, node/catalog, node/auth and
// schema, never node itself.
package demo
