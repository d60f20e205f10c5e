// Package backup owns the node's backup file: writing one from a store
// (stopped or serving), checking one without restoring it, restoring one
// into a data directory so that a damaged file or an interrupted restore
// never leaves a node behind, and the node's own scheduled backups.
//
// The format (version 2) is a gzip stream of a tar archive holding, in this
// order, "difronte-backup" (the format line), "manifest.json" (size and
// SHA-256 of each section, the number of store records, the audit chain's
// length and head), "node.key" and "store.badger" (node/store's backup
// stream, keys in order). The gzip header's extra field (subfield "DF")
// carries the format version byte and the SHA-256 of the whole file taken
// with those 32 bytes set to zero, so the file stays a plain .tar.gz for
// any tool. Version 1 files (no extra field, no manifest) written by
// earlier releases are still read, with a warning: see Legacy.
//
// Only the root package node (wiring) and node/webui (the admin's home
// page shows Result) import backup. It imports node/store and node/audit.
package backup
