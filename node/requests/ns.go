package requests

import (
	"github.com/difronte/difronte/node/store"
)

// namespaced is d under prefix, writable by a store.Tx begun on d.
func namespaced(d store.Namespace, prefix string) store.Namespace {
	return store.NewSub(d, prefix)
}
