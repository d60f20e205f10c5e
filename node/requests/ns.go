package requests

import (
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"

	"github.com/difronte/difronte/node/store"
)

// namespaced is d under prefix.
func namespaced(d store.Namespace, prefix string) store.Namespace {
	return namespace.Wrap(d, ds.NewKey(prefix))
}
