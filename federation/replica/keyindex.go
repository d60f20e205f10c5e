package replica

import (
	"hash/maphash"
	"iter"
)

// keyIndex maps a publisher's index keys (kind byte + key) to their slots
// without a pointer per key. A map[string]slot held one string object per
// record: 100,000 of a node's 250,000 heap objects with a 100k catalogue,
// each marked by every collection. Here the keys live end to end in one
// byte slice and the map is from a seeded hash to an entry number, so the
// collector has nothing inside to scan.
//
// Two keys with the same hash (a 64-bit hash with a seed of this process,
// so a publisher cannot choose keys that collide) are still told apart:
// the second goes to more, an ordinary map that is empty in practice.
type keyIndex struct {
	seed    maphash.Seed
	mask    uint64            // hashes are masked with it; tests narrow it to force collisions
	byHash  map[uint64]uint32 // hash of a key → its entry number + 1
	more    map[string]uint32 // keys whose hash another key held first → entry number + 1
	ents    []keyEnt          // by entry number; n == 0: free
	free    []uint32
	text    []byte // the keys of ents, end to end
	garbage int    // bytes of text of removed keys
	live    int
}

type keyEnt struct {
	off, n uint32 // the key is text[off : off+n]; index keys have at least their kind byte
	s      slot
}

// minCompact is the least garbage worth compacting text for.
const minCompact = 64 << 10

func newKeyIndex() *keyIndex {
	return &keyIndex{seed: maphash.MakeSeed(), mask: ^uint64(0), byHash: make(map[uint64]uint32)}
}

func (x *keyIndex) hash(ik string) uint64 { return maphash.String(x.seed, ik) & x.mask }

func (x *keyIndex) key(e *keyEnt) []byte { return x.text[e.off : e.off+e.n] }

// find returns ik's entry number, if it holds ik.
func (x *keyIndex) find(ik string, h uint64) (uint32, bool) {
	if i, ok := x.byHash[h]; ok && string(x.key(&x.ents[i-1])) == ik {
		return i - 1, true
	}
	if i, ok := x.more[ik]; ok {
		return i - 1, true
	}
	return 0, false
}

func (x *keyIndex) len() int { return x.live }

func (x *keyIndex) get(ik string) (slot, bool) {
	i, ok := x.find(ik, x.hash(ik))
	if !ok {
		return slot{}, false
	}
	return x.ents[i].s, true
}

// set holds s for ik, adding ik if new.
func (x *keyIndex) set(ik string, s slot) {
	h := x.hash(ik)
	if i, ok := x.find(ik, h); ok {
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
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = i + 1
	} else {
		if x.more == nil {
			x.more = make(map[string]uint32)
		}
		x.more[ik] = i + 1
	}
	x.live++
}

// del removes ik, if held.
func (x *keyIndex) del(ik string) {
	h := x.hash(ik)
	i, ok := x.find(ik, h)
	if !ok {
		return
	}
	if j := x.byHash[h]; j == i+1 {
		delete(x.byHash, h)
	} else {
		delete(x.more, ik)
	}
	x.garbage += int(x.ents[i].n)
	x.ents[i] = keyEnt{}
	x.free = append(x.free, i)
	x.live--
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
		text = append(text, x.key(e)...)
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
			if e.n != 0 && !yield(x.key(e), e.s) {
				return
			}
		}
	}
}
