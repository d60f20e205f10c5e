package replica

import (
	"iter"
	"unsafe"

	"github.com/difronte/difronte/federation/hashindex"
)

// keyIndex maps a publisher's index keys (kind byte + key) to their slots
// without a pointer per key. A map[string]slot held one string object per
// record: 100,000 of a node's 250,000 heap objects with a 100k catalogue,
// each marked by every collection. Here the keys live end to end in one
// byte slice, found through a hashindex.Index (as the search index finds
// its ids), so the collector has nothing inside to scan.
type keyIndex struct {
	idx     hashindex.Index // key → entry number
	ents    []keyEnt        // by entry number; n == 0: free
	free    []uint32
	text    []byte // the keys of ents, end to end; never written twice
	garbage int    // bytes of text of removed keys
}

type keyEnt struct {
	off, n uint32 // the key is text[off : off+n]; index keys have at least their kind byte
	s      slot
}

// minCompact is the least garbage worth compacting text for.
const minCompact = 64 << 10

func newKeyIndex() *keyIndex { return &keyIndex{idx: hashindex.New()} }

// keyOf returns the key of entry i. The bytes of text are never written
// twice (a compaction or a larger array is a new one), so the string stays
// as it is.
func (x *keyIndex) keyOf(i uint32) string {
	e := &x.ents[i]
	return unsafe.String(&x.text[e.off], int(e.n))
}

func (x *keyIndex) len() int { return x.idx.Len() }

func (x *keyIndex) get(ik string) (slot, bool) {
	i, ok := x.idx.Get(ik, x.keyOf)
	if !ok {
		return slot{}, false
	}
	return x.ents[i].s, true
}

// set holds s for ik, adding ik if new.
func (x *keyIndex) set(ik string, s slot) {
	if i, ok := x.idx.Get(ik, x.keyOf); ok {
		x.ents[i].s = s
		return
	}
	e := keyEnt{off: uint32(len(x.text)), n: uint32(len(ik)), s: s}
	x.text = append(x.text, ik...)
	var i uint32
	if n := len(x.free); n > 0 {
		i = x.free[n-1]
		x.free = x.free[:n-1]
		x.ents[i] = e
	} else {
		i = uint32(len(x.ents))
		x.ents = append(x.ents, e)
	}
	x.idx.Put(ik, i, x.keyOf)
}

// del removes ik, if held.
func (x *keyIndex) del(ik string) {
	i, ok := x.idx.Del(ik, x.keyOf)
	if !ok {
		return
	}
	x.garbage += int(x.ents[i].n)
	x.ents[i] = keyEnt{}
	x.free = append(x.free, i)
	if x.garbage >= minCompact && x.garbage > len(x.text)/2 {
		x.compact()
	}
}

// compact copies the live keys to a new text, dropping removed ones. The
// old text is never written again: keys yielded from it stay valid.
func (x *keyIndex) compact() {
	text := make([]byte, 0, len(x.text)-x.garbage)
	for i := range x.ents {
		e := &x.ents[i]
		if e.n == 0 {
			continue
		}
		off := uint32(len(text))
		text = append(text, x.text[e.off:e.off+e.n]...)
		e.off = off
	}
	x.text, x.garbage = text, 0
}

// all yields every held key and its slot, in no particular order. The key
// is a view of the index's text: valid until the index changes, and to be
// copied to be kept.
func (x *keyIndex) all() iter.Seq2[[]byte, slot] {
	return func(yield func([]byte, slot) bool) {
		for i := range x.ents {
			e := &x.ents[i]
			if e.n != 0 && !yield(x.text[e.off:e.off+e.n], e.s) {
				return
			}
		}
	}
}
