// Package hashindex maps strings to numbers through a map keyed by the
// strings' seeded 64-bit hash. It holds no string: the caller keeps its
// keys as bytes of its own (the search index's ids and terms, the
// replica's index keys) and gives the key of a number back when asked, to
// tell it from another key of the same hash. A Go map keyed by strings
// holds a pointer per key that the garbage collector follows at every
// cycle; this one is memory the collector does not scan.
//
// Two keys of the same hash are still told apart: the second goes to a
// small string-keyed side map, so a collision costs a second lookup, never
// a wrong answer. The seed is drawn per process, so keys that arrive from
// the network cannot be chosen to collide.
package hashindex

import "hash/maphash"

// Index maps strings to numbers. keyOf, in every method, gives the key of
// a number the index holds. The zero Index is not ready: use New.
type Index struct {
	seed maphash.Seed
	m    map[uint64]uint32
	over map[string]uint32   // keys whose hash another key holds in m
	sum  func(string) uint64 // tests: forced collisions; nil: maphash
}

// New returns an empty index.
func New() Index {
	return Index{seed: maphash.MakeSeed(), m: map[uint64]uint32{}}
}

// SetHash replaces the hash, for tests that force collisions; it must be
// called before anything is put.
func (h *Index) SetHash(sum func(string) uint64) { h.sum = sum }

func (h *Index) hash(s string) uint64 {
	if h.sum != nil {
		return h.sum(s)
	}
	return maphash.String(h.seed, s)
}

// Len returns how many keys the index holds.
func (h *Index) Len() int { return len(h.m) + len(h.over) }

// Collided returns how many keys are held in the side map, for tests.
func (h *Index) Collided() int { return len(h.over) }

// Get returns the number of s.
func (h *Index) Get(s string, keyOf func(uint32) string) (uint32, bool) {
	if v, ok := h.m[h.hash(s)]; ok && keyOf(v) == s {
		return v, true
	}
	if len(h.over) == 0 {
		return 0, false
	}
	v, ok := h.over[s]
	return v, ok
}

// Put maps s to v; keyOf(v) must be s.
func (h *Index) Put(s string, v uint32, keyOf func(uint32) string) {
	k := h.hash(s)
	if cur, ok := h.m[k]; ok && keyOf(cur) != s {
		if h.over == nil {
			h.over = map[string]uint32{}
		}
		h.over[s] = v
		return
	}
	h.m[k] = v
}

// Del removes s, while keyOf still gives the keys of the numbers held,
// and returns the number it had, if it was held.
func (h *Index) Del(s string, keyOf func(uint32) string) (uint32, bool) {
	k := h.hash(s)
	if cur, ok := h.m[k]; ok && keyOf(cur) == s {
		delete(h.m, k) // a key of the same hash in over stays there: Get looks in both
		return cur, true
	}
	v, ok := h.over[s]
	delete(h.over, s)
	return v, ok
}
