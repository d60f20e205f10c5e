package api_test

import ds "github.com/ipfs/go-datastore"

func dsKey(k string) ds.Key { return ds.NewKey(k) }
