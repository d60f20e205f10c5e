// Package node is one Difronte coop node: it opens the store, the private
// registry, the accounts and the audit log, joins the federation, and serves
// the HTTP API and web UI. node.New does no I/O; Start makes the node ready;
// Close shuts it down in reverse order. There is no package-level state, so
// many nodes can run in one process (see testnet).
package node
