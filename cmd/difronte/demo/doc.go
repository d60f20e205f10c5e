// Package demo seeds a believable demo coop into an empty node (Seed) and
// generates varied, valid records for benchmarks and the testnet
// (Beneficiaries, Offerings). Names, addresses and municipalities are
// Italian; every record passes the same validation as one typed by a user.
//
// `difronte serve --demo` calls Seed after the node started, through the
// node's services; tests, bench and testnet import it for synthetic data.
// It imports node/care, node/catalogue, node/auth and schema, never node
// itself, so the tests of node's own packages may use it. The node does not
// import it: a production node holds no demo code path.
package demo
