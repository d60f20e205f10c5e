// Package replica holds a node's verified copy of the federation's public
// records: for every (publisher, kind, key) the current entry of the
// publisher's single-writer log, tombstones included, in a go-datastore,
// with a compact in-memory index for fast staleness checks, per-publisher
// "complete through" marks for catch-up, and a state digest.
//
// It stores only entries its callers have already verified (gossip
// validators call schema.UnmarshalEntry and schema.ValidateBody first;
// catch-up also accepts, verified by signature, entries of kinds a newer
// version introduced, which the replica holds, counts and relays like any
// other but no view of this version interprets).
//
// Files: replica.go opens the replica and answers checks and summaries;
// apply.go decides, commits and installs writes (Apply, Append, RaiseMark);
// read.go reads entries back (Get, Current, Since); checkpoint.go says how
// marks advance (never on a peer's word) and makes the node's own
// checkpoints; index.go is the in-memory index and digest; keys.go the
// datastore layout.
//
// It imports schema and go-datastore only; the node, gossip topics and the
// catch-up protocol build on it. Datastore names the go-datastore type for
// them, so no other federation package imports go-datastore.
package replica
