package search

import (
	"math/bits"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/difronte/difronte/schema"
)

// Facet columns. Counting a large result value by value intersects every
// value's bitmap with it: as many element tests as the catalogue has
// (value, document) pairs in the sparse values, whatever the result's
// size (300 publishers of 333 offerings each cost 100,000 tests). Visiting
// the result's documents reads every value of each. A column holds each
// document's main value of a field, so a field costs one increment per
// result document; the few documents with other values of the field too
// (a second place or language, a second category) are visited for them.
// A category's main value is the deepest one whose ancestors the document
// has: they are counted from its count, not per document.

// setCols records the column entries of document num from its values (nil
// when it is removed). The caller holds mu for writing.
func (m *mem) setCols(num uint32, vals []uint32) {
	var row [nFields]uint32
	for _, v := range vals {
		if f := m.fvals[v].field; row[f] == 0 {
			row[f] = v + 1
		}
	}
	row[ffCategory] = 0
	depth := -1
	for _, v := range vals {
		if m.fvals[v].field != ffCategory {
			continue
		}
		if up, ok := m.ancestors(v); ok && len(up) > depth && containsAll(vals, up) {
			row[ffCategory], depth = v+1, len(up)
		}
	}
	for f, v := range row {
		m.cols[f][num] = v
	}
	var more [nFields]bool
	for _, v := range vals {
		if !m.covered(num, v) {
			more[m.fvals[v].field] = true
		}
	}
	for f, r := range m.rest {
		if more[f] {
			r.Add(num)
		} else {
			r.Remove(num)
		}
	}
}

func containsAll(s, sub []uint32) bool {
	for _, v := range sub {
		if !slices.Contains(s, v) {
			return false
		}
	}
	return true
}

// covered reports whether document n's column entries count its value v:
// v is the main value of its field, or an ancestor of the main category.
func (m *mem) covered(n, v uint32) bool {
	f := m.fvals[v].field
	c := m.cols[f][n]
	if c == v+1 {
		return true
	}
	return f == ffCategory && c != 0 && slices.Contains(m.up[c-1], v)
}

// ancestors returns the value ids of the ancestors of category value v in
// the taxonomy, nearest first; ok is false if one of them has no value id
// yet. The taxonomy and value ids never change, so an answer is kept.
// The caller holds mu for writing.
func (m *mem) ancestors(v uint32) (up []uint32, ok bool) {
	if up, ok := m.up[v]; ok {
		return up, true
	}
	up = []uint32{}
	for code := m.fvals[v].name; ; {
		p, known := schema.TermParent(code)
		if !known || p == "" {
			break
		}
		id, has := m.fids[ffCategory][p]
		if !has {
			return nil, false
		}
		up = append(up, id)
		code = p
	}
	m.up[v] = up
	return up, true
}

// restCost is what visiting one document for the values its column
// entries do not count costs, in element tests (an intersection's unit):
// its values are read from scattered memory.
const restCost = 16

// colPlan returns the fields a dense result of card documents is
// cheaper to count by column than by intersecting each value
// (sizes.andCost), and what counting it so costs in element tests.
// The caller holds the read lock.
func (m *mem) colPlan(card int) (cols []field, cost int) {
	sz := m.bySize()
	live := max(int(m.live.GetCardinality()), 1)
	for f := range nFields {
		col := card + card*int(m.rest[f].GetCardinality())/live*restCost
		if sz.andCost[f] > col {
			cols = append(cols, f)
			cost += col
		} else {
			cost += sz.andCost[f]
		}
	}
	return cols, cost
}

// countsCols adds to out (zeroed) the facet counts of the documents of b
// (dense: see counts), by column in the fields cols (colPlan), by
// intersection in the others. The caller holds the read lock.
func (m *mem) countsCols(b *roaring.Bitmap, cols []field, out []int) {
	sz := m.bySize()
	var colv [][]uint32
	for f := range nFields {
		if slices.Contains(cols, f) {
			colv = append(colv, m.cols[f][:len(m.docs)])
		} else {
			m.countField(b, f, sz.byField[f], out)
		}
	}
	if len(cols) == 0 {
		return
	}
	main := getCounts(len(m.fvals) + 1) // by value id+1; 0 counts documents without a value
	// b as a plain bitset: its numbers come out three times faster than
	// from its iterator.
	words := getWords(len(m.docs))
	b.WriteDenseTo(words)
	for w, bits64 := range words {
		for bits64 != 0 {
			n := w*64 + bits.TrailingZeros64(bits64)
			bits64 &= bits64 - 1
			for _, c := range colv {
				main[c[n]]++
			}
		}
	}
	putWords(words)
	for i, c := range main[1:] {
		if c == 0 {
			continue
		}
		out[i] += c
		if m.fvals[i].field == ffCategory {
			for _, a := range m.up[uint32(i)] {
				out[a] += c
			}
		}
	}
	putCounts(main)
	for _, f := range cols {
		if rest := m.rest[f]; !rest.IsEmpty() {
			m.countRest(roaring.And(b, rest), f, out)
		}
	}
}

// countRest adds to out the values in field f of the documents of b that
// their column entries do not count.
func (m *mem) countRest(b *roaring.Bitmap, f field, out []int) {
	var buf [256]uint32
	it := b.ManyIterator()
	for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
		for _, n := range buf[:k] {
			for _, v := range m.spanVals(n) {
				if m.fvals[v].field == f && !m.covered(n, v) {
					out[v]++
				}
			}
		}
	}
}

// wordsPool recycles the bitsets of countsCols: a bit per document.
var wordsPool sync.Pool

// getWords returns a zeroed bitset for numbers below n.
func getWords(n int) []uint64 {
	k := (n + 63) / 64
	if p, ok := wordsPool.Get().(*[]uint64); ok && cap(*p) >= k {
		w := (*p)[:k]
		clear(w)
		return w
	}
	return make([]uint64, k)
}

func putWords(w []uint64) { wordsPool.Put(&w) }
