// Package store opens the node's embedded key-value store (go-datastore over
// go-ds-badger, writes synced) and gives typed JSON helpers over it. The
// private domain and the federation replica each get their own namespace.
// A component holds its part as a Namespace and names keys with NewKey:
// store is the only node package that imports go-datastore.
//
// Only node packages import store.
package store
