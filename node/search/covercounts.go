package search

import (
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Facet counts from the categories a result covers. A text query's words
// are most often the taxonomy's own: a category's name and keywords are
// indexed in each of its documents, so the result of "assistenza
// domiciliare" is the whole of "Assistenza domiciliare" and of "Salute e
// cura a domicilio" (whose keywords hold both words), with no other
// document. Such a result is counted from the rows byCategory already
// keeps: the sum of its categories' rows, corrected by a visit of the few
// documents the sum gets wrong. This is the category-only path of the
// funnel's first steps (categoryCounts) for a result made of several
// categories, exact and independent of the queries.

// andCost is what intersecting a bitmap of n documents with a large
// result costs in element tests: a lookup per document, but no more than
// a popcount of 1,024 words per chunk of 65,536 numbers it spans.
func andCost(bits *roaring.Bitmap, n int) int {
	chunks := int(bits.Maximum()>>16-bits.Minimum()>>16) + 1
	return min(n, 1024*chunks)
}

// coverSample is how many of a result's documents coverCount reads the
// main category of, evenly spread over it, to find the categories it may
// cover: all of them in a result this small.
const coverSample = 256

// coverCount adds to out (zeroed) the facet counts of result b (card
// documents) from the rows of the categories it covers, if that costs
// less than bound in element tests, and reports whether it did. The
// categories are the main ones (the column's) of a sample of b's
// documents, each taken when fewer of its documents are outside b than
// inside and when it is neither an ancestor nor a descendant of one
// already taken: a document with no second category is then in one of
// them at most. When b is those categories, and none of their documents
// has several, the sum of their rows is b's counts. Otherwise the sum is
// corrected by a visit of b's documents in none of them (added), of their
// documents outside b (taken away), and of their documents with several
// categories (taken away as many times as the sum counted them, less once
// if in b). Which categories are taken changes the cost, never the
// counts. The caller holds the read lock.
func (m *mem) coverCount(b *roaring.Bitmap, card, perDoc, bound int, out []int) bool {
	nw := (len(m.docs) + 63) / 64
	cost := nw/8 + min(card, coverSample) // b as a bitset, and the sample's column entries
	if cost >= bound {
		return false
	}
	bw := getWords(len(m.docs))
	defer putWords(bw)
	b.WriteDenseTo(bw)
	var cats []uint32
	in, size, several := 0, 0, false
	for _, c := range m.sampleCategories(bw, card) {
		if m.related(c, cats) {
			continue // a document of both would be counted by two rows
		}
		cb := m.fvals[c].bits
		n := int(cb.GetCardinality())
		cost += andCost(cb, n)
		if k := int(cb.AndCardinality(b)); n-k < k {
			cats = append(cats, c)
			in, size = in+k, size+n
			several = several || cb.Intersects(m.rest[ffCategory])
			cost += len(m.fvals) / 8 // the row
		}
		if cost >= bound {
			return false
		}
	}
	if len(cats) == 0 {
		return false
	}
	if in == card && size == card && !several { // b is the categories, each document in one
		for _, c := range cats {
			addRow(m.byCategory[c], out)
		}
		return true
	}
	uw := getWords(len(m.docs)) // the union of the categories taken
	defer putWords(uw)
	scratch := getWords(len(m.docs))
	defer putWords(scratch)
	for _, c := range cats {
		orInto(uw, scratch, m.fvals[c].bits)
	}
	cost += len(cats) * nw / 4
	rw := getWords(len(m.docs)) // the documents with several categories
	defer putWords(rw)
	m.rest[ffCategory].WriteDenseTo(rw) // into zeros
	fix := 0
	for i, x := range bw {
		fix += bits.OnesCount64(x&^uw[i]) + 2*bits.OnesCount64(uw[i]&(rw[i]|^x))
	}
	if cost += nw/2 + fix*perDoc; cost >= bound {
		return false
	}
	for _, c := range cats {
		addRow(m.byCategory[c], out)
	}
	for i, x := range bw {
		for y := x &^ uw[i]; y != 0; y &= y - 1 {
			m.addValues(uint32(i*64+bits.TrailingZeros64(y)), 1, out)
		}
		for y := uw[i] & (rw[i] | ^x); y != 0; y &= y - 1 {
			d := uint32(i*64 + bits.TrailingZeros64(y))
			inc := -m.countedIn(d, cats)
			if x&(y&-y) != 0 {
				inc++
			}
			if inc != 0 {
				m.addValues(d, inc, out)
			}
		}
	}
	return true
}

// addRow adds a count row to out (by value id; out is longer).
func addRow(row []int32, out []int) {
	for v, n := range row {
		out[v] += int(n)
	}
}

// orInto sets in words the bits of b, through scratch: WriteDenseTo
// copies a bitmap container's words over those of the bitset, so it does
// not add to bits already set.
func orInto(words, scratch []uint64, b *roaring.Bitmap) {
	clear(scratch)
	b.WriteDenseTo(scratch)
	for i, x := range scratch {
		words[i] |= x
	}
}

// sampleCategories returns the main categories of coverSample of b's
// documents (bw, card of them), evenly spread, each once.
func (m *mem) sampleCategories(bw []uint64, card int) []uint32 {
	var seen []uint32
	col := m.cols[ffCategory]
	stride := max(card/coverSample, 1)
	rank, next := 0, 0 // how many of b's numbers come before word w; the rank of the next to read
	for w, x := range bw {
		c := bits.OnesCount64(x)
		for j := rank; x != 0 && next < rank+c; j++ {
			if j == next {
				if v := col[w*64+bits.TrailingZeros64(x)]; v != 0 && !slices.Contains(seen, v-1) {
					seen = append(seen, v-1)
				}
				next += stride
			}
			x &= x - 1
		}
		rank += c
	}
	return seen
}

// related reports whether category value c is an ancestor or a
// descendant of one of cats: a document filed under a top category is
// sampled as it, one under its subcategory as that. The caller holds the
// read lock.
func (m *mem) related(c uint32, cats []uint32) bool {
	for _, t := range cats {
		if slices.Contains(m.up[t], c) || slices.Contains(m.up[c], t) {
			return true
		}
	}
	return false
}

// countedIn is how many of cats document d has.
func (m *mem) countedIn(d uint32, cats []uint32) int {
	k := 0
	for _, v := range m.spanVals(d) {
		if m.fvals[v].field == ffCategory && slices.Contains(cats, v) {
			k++
		}
	}
	return k
}

// addValues adds inc to out at each of document d's values.
func (m *mem) addValues(d uint32, inc int, out []int) {
	for _, v := range m.spanVals(d) {
		out[v] += inc
	}
}

// spanVals returns document d's value ids, read through its compact span.
func (m *mem) spanVals(d uint32) []uint32 {
	sp := m.spans[d]
	return m.fa[sp>>16 : sp>>16+sp&0xffff]
}
