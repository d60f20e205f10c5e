package search

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// Facet counts by term. Counting the facets of a text query's result
// visits each matching document's values: 6,000 matches cost 6,000 cache
// misses and more, the largest share of a text answer's CPU. The index
// keeps, for each term in many documents, how many live documents have
// the term and each facet value (byTerm), updated as documents come and go
// like byCategory. A result b close to a term's documents T is then
// counted from T's row, less the documents of T not in b, plus those of b
// not in T: |T Δ b| visits instead of |b|. A query of one or two words
// that always come together ("anziani", "dog sitter") has Δ = 0. This is an
// index structure, exact and independent of the queries, not a cache.

const (
	// termRowMin is how many documents a term must be in before it gets a
	// row: below it a visit of the result is cheap anyway.
	termRowMin = 1024
	// maxTermRows and termRowBytes bound the rows (each one int32 per
	// facet value: 1,024 rows of a catalogue in 8,000 municipalities would
	// be 32 MB): the first terms to reach termRowMin keep theirs.
	maxTermRows  = 1024
	termRowBytes = 4 << 20
)

// termRowsFull reports whether another row would pass the bounds.
func (m *mem) termRowsFull() bool {
	return len(m.byTerm) >= m.maxTermRows || (len(m.byTerm)+1)*len(m.fvals)*4 > m.termRowBytes
}

// countTerms adds inc to the rows of d's terms at each of d's values, and
// gives its row to a term that has just reached termRowMin documents
// (counted by a visit of them, d included). The caller holds mu for
// writing; when adding, d is in the postings and its span is set.
func (m *mem) countTerms(d *doc, inc int32) {
	vals := m.vals(d)
	for _, t := range m.allOf(d) {
		if _, ok := m.byTerm[t]; ok {
			m.addToRow(m.byTerm, t, vals, inc)
		} else if b := m.bitsOf(m.all[t]); inc > 0 && !m.termRowsFull() && b != nil &&
			b.GetCardinality() >= uint64(m.termRowMin) {
			m.byTerm[t] = m.termRow(b)
		}
	}
}

// termRow counts the facet values of the documents of b by a visit.
func (m *mem) termRow(b *roaring.Bitmap) []int32 {
	counts := getCounts(len(m.fvals))
	defer putCounts(counts)
	m.visit(b, 1, counts)
	row := make([]int32, len(counts))
	for v, n := range counts {
		row[v] = int32(n)
	}
	return row
}

// termPlan is how to count a result from a term's row: its documents T,
// and what the visits of T Δ b cost in element tests.
type termPlan struct {
	row  []int32
	docs *roaring.Bitmap
	in   int // |T ∩ b|
	cost int
}

// termCounts returns the cheapest way to count result b (card documents)
// from the rows of its query's terms that costs less than bound (ok false
// when none does). A term whose size alone puts it over the bound (|T Δ b|
// is at least the difference of the sizes) is not intersected with b. The
// caller holds the read lock.
func (m *mem) termCounts(b *roaring.Bitmap, card, perDoc int, terms []uint32, bound int) (best termPlan, ok bool) {
	copyCost := len(m.fvals) / 8 // the copy of the row: sequential
	for _, t := range terms {
		row, has := m.byTerm[t]
		if !has {
			continue
		}
		docs := m.bitsOf(m.all[t])
		n := int(docs.GetCardinality())
		if abs(n-card)*perDoc+copyCost >= bound {
			continue
		}
		in := int(docs.AndCardinality(b))
		cost := (n+card-2*in)*perDoc + copyCost
		if cost < bound {
			best, ok, bound = termPlan{row: row, docs: docs, in: in, cost: cost}, true, cost
		}
	}
	return best, ok
}

func abs(x int) int { return max(x, -x) }

// countFromTerm writes into out the facet counts of b from p: the term's
// row, less the values of its documents not in b, plus those of b's
// documents not in it.
func (m *mem) countFromTerm(b *roaring.Bitmap, card int, p termPlan, out []int) {
	rowInto(p.row, out)
	if p.in < int(p.docs.GetCardinality()) {
		m.visit(roaring.AndNot(p.docs, b), -1, out)
	}
	if p.in < card {
		m.visit(roaring.AndNot(b, p.docs), 1, out)
	}
}

// termIDs returns the ids of the terms of tokens the index knows. The
// caller holds the read lock.
func (m *mem) termIDs(tokens []string) []uint32 {
	var ids []uint32
	for _, t := range tokens {
		if i, ok := m.terms.id(t); ok {
			ids = append(ids, i)
		}
	}
	return ids
}
