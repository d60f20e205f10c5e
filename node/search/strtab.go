package search

import (
	"unsafe"

	"github.com/difronte/difronte/federation/hashindex"
)

// The index holds 100,000 offerings' ids, names and terms. Held as Go
// strings and string-keyed maps, each is a pointer the garbage collector
// follows at every cycle: measured at about two thirds of a cycle's marking
// of the whole index. Held here as bytes in one array, found through maps
// keyed by a hash, they are memory the collector does not scan.

// strTab numbers strings, 0, 1, 2... in the order first added; a number
// is never freed.
type strTab struct {
	text []byte
	ends []uint32 // by number: where its string ends in text
	idx  hashindex.Index
}

func newStrTab() strTab { return strTab{idx: hashindex.New()} }

// str returns string i. The bytes of text are never written twice (a
// larger array is a new one), so the string stays as it is.
func (t *strTab) str(i uint32) string {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return unsafe.String(unsafe.SliceData(t.text[start:]), int(t.ends[i]-start))
}

func (t *strTab) id(s string) (uint32, bool) { return t.idx.Get(s, t.str) }

// add returns the number of s, numbering it if new.
func (t *strTab) add(s string) (i uint32, added bool) {
	if i, ok := t.id(s); ok {
		return i, false
	}
	i = uint32(len(t.ends))
	t.text = append(t.text, s...)
	t.ends = append(t.ends, uint32(len(t.text)))
	t.idx.Put(s, i, t.str)
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
