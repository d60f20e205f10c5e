package hashindex

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestCollisions puts and deletes keys of a few colliding hashes
// in random order: after every step, every key of the universe is found
// as a plain map says, keys in over among them.
func TestCollisions(t *testing.T) {
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	vals := make([]string, 1000) // value -> its key, as a document number gives its id
	keyOf := func(v uint32) string { return vals[v] }
	h := New()
	h.sum = func(s string) uint64 { return uint64(len(s) % 3) } // three hashes for forty keys
	want := map[string]uint32{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range len(vals) {
		k := keys[r.IntN(len(keys))]
		if _, ok := want[k]; ok && r.IntN(2) == 0 {
			h.Del(k, keyOf)
			delete(want, k)
		} else {
			if _, ok := want[k]; ok {
				h.Del(k, keyOf) // as the search index removes an old document first
			}
			vals[step] = k
			h.Put(k, uint32(step), keyOf)
			want[k] = uint32(step)
		}
		for _, k := range keys {
			v, ok := h.Get(k, keyOf)
			w, wok := want[k]
			if ok != wok || v != w {
				t.Fatalf("step %d: %s gives %d, %v; want %d, %v", step, k, v, ok, w, wok)
			}
		}
		if h.Len() != len(want) {
			t.Fatalf("step %d: %d keys, want %d", step, h.Len(), len(want))
		}
	}
	if len(h.over) == 0 {
		t.Fatal("no key went to over: the test covers less than it says")
	}
}
