package search

import (
	"hash/maphash"
	"unsafe"
)

// The index holds 100,000 offerings' ids, names and terms. Held as Go
// strings and string-keyed maps, each is a pointer the garbage collector
// follows at every cycle: measured at about two thirds of a cycle's marking
// of the whole index. Held here as bytes in one array, found through maps
// keyed by a hash, they are memory the collector does not scan.

// hashIndex maps strings to numbers with a map keyed by the strings' hash.
// It does not hold the strings: keyOf gives the string of a number, to tell
// a key from another of the same hash, which goes to over.
type hashIndex struct {
	seed maphash.Seed
	m    map[uint64]uint32
	over map[string]uint32   // keys whose hash another key holds in m
	sum  func(string) uint64 // tests: forced collisions; nil: maphash
}

func newHashIndex() hashIndex {
	return hashIndex{seed: maphash.MakeSeed(), m: map[uint64]uint32{}}
}

func (h *hashIndex) hash(s string) uint64 {
	if h.sum != nil {
		return h.sum(s)
	}
	return maphash.String(h.seed, s)
}

func (h *hashIndex) len() int { return len(h.m) + len(h.over) }

func (h *hashIndex) get(s string, keyOf func(uint32) string) (uint32, bool) {
	if v, ok := h.m[h.hash(s)]; ok && keyOf(v) == s {
		return v, true
	}
	if len(h.over) == 0 {
		return 0, false
	}
	v, ok := h.over[s]
	return v, ok
}

// put maps s to v; keyOf(v) must be s.
func (h *hashIndex) put(s string, v uint32, keyOf func(uint32) string) {
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

// del removes s, while keyOf still gives the strings of the numbers held.
func (h *hashIndex) del(s string, keyOf func(uint32) string) {
	k := h.hash(s)
	if cur, ok := h.m[k]; !ok || keyOf(cur) != s {
		delete(h.over, s)
		return
	}
	delete(h.m, k) // a key of the same hash in over stays there: get looks in both
}

// strTab numbers strings, 0, 1, 2... in the order first added; a number
// is never freed.
type strTab struct {
	text []byte
	ends []uint32 // by number: where its string ends in text
	idx  hashIndex
}

func newStrTab() strTab { return strTab{idx: newHashIndex()} }

// str returns string i. The bytes of text are never written twice (a
// larger array is a new one), so the string stays as it is.
func (t *strTab) str(i uint32) string {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return unsafe.String(unsafe.SliceData(t.text[start:]), int(t.ends[i]-start))
}

func (t *strTab) id(s string) (uint32, bool) { return t.idx.get(s, t.str) }

// add returns the number of s, numbering it if new.
func (t *strTab) add(s string) (i uint32, added bool) {
	if i, ok := t.id(s); ok {
		return i, false
	}
	i = uint32(len(t.ends))
	t.text = append(t.text, s...)
	t.ends = append(t.ends, uint32(len(t.text)))
	t.idx.put(s, i, t.str)
	return i, true
}

// strs returns every string, by number.
func (t *strTab) strs() []string {
	out := make([]string, len(t.ends))
	for i := range out {
		out[i] = t.str(uint32(i))
	}
	return out
}
