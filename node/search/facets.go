package search

import (
	"cmp"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// sizes is what counts weighs: each field's value ids largest bitmap
// first, and the cost of intersecting every value of the field in element
// tests.
type sizes struct {
	byField [nFields][]uint32
	andCost [nFields]int
}

// countField fills out with the facet counts of the documents of b in
// field f, value by value (ids, largest first). In a field that lists only
// its commonest values (facetNames[f].size of more), counting stops at the
// first value whose whole bitmap is smaller than the smallest count still
// listed: it cannot enter the list, nor can any after it. Counts of values
// so skipped stay 0, so they are absent, exactly as they would be after
// the cut. The caller holds the read lock.
func (m *mem) countField(b *roaring.Bitmap, f field, ids []uint32, out []int) {
	size := facetNames[f].size
	prune := len(ids) > size
	var top []int // the size largest counts so far, when pruning
	low := 0      // index of the smallest of top
	for _, i := range ids {
		bits := m.fvals[i].bits
		if prune && len(top) == size && int(bits.GetCardinality()) < top[low] {
			break
		}
		c := int(b.AndCardinality(bits))
		out[i] = c
		if !prune || c == 0 {
			continue
		}
		switch {
		case len(top) < size:
			top = append(top, c)
			if len(top) == size {
				low = minIndex(top)
			}
		case c > top[low]:
			top[low] = c
			low = minIndex(top)
		}
	}
}

func minIndex(s []int) int {
	low := 0
	for i, v := range s {
		if v < s[low] {
			low = i
		}
	}
	return low
}

// bySize returns each field's value ids, largest bitmap first, computed
// once per generation of the index. The caller holds the read lock; the
// slices must not be changed.
func (m *mem) bySize() *sizes {
	c := &m.cache
	c.Lock()
	defer c.Unlock()
	m.cacheGen()
	if c.bySize != nil {
		return c.bySize
	}
	out := &sizes{}
	card := make([]uint64, len(m.fvals))
	for i := range m.fvals {
		bits := m.fvals[i].bits
		card[i] = bits.GetCardinality()
		if card[i] > 0 {
			f := m.fvals[i].field
			out.byField[f] = append(out.byField[f], uint32(i))
			out.andCost[f] += andCost(bits, int(card[i]))
		}
	}
	for f := range out.byField {
		slices.SortFunc(out.byField[f], func(a, b uint32) int { return cmp.Compare(card[b], card[a]) })
	}
	c.bySize = out
	return out
}

// topRanks returns the numbers of b at name-order positions off..off+n
// (fewer at the end): one pass over b keeping the off+n smallest ranks in
// a max-heap, for sets too large to sort whole and too sparse to find
// quickly by walking the name order. The caller holds the read lock after
// sortOrder.
func (m *mem) topRanks(b *roaring.Bitmap, off, n int) []uint32 {
	k := off + n
	h := make([]uint32, 0, k) // ranks; a max-heap once full
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			if r := l + 1; r < len(h) && h[r] > h[l] {
				l = r
			}
			if h[i] >= h[l] {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	var buf [256]uint32
	it := b.ManyIterator()
	rank := m.rank
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		for _, d := range buf[:n] {
			r := rank[d]
			switch {
			case len(h) < k:
				h = append(h, r)
				if len(h) == k {
					for i := k/2 - 1; i >= 0; i-- {
						down(i)
					}
				}
			case r < h[0]:
				h[0] = r
				down(0)
			}
		}
	}
	slices.Sort(h)
	if off >= len(h) {
		return nil
	}
	out := make([]uint32, 0, len(h)-off)
	for _, r := range h[off:] {
		out = append(out, m.order[r])
	}
	return out
}

// countsPool recycles the counts of finished queries: one int per facet
// value of the index, thousands of them.
var countsPool sync.Pool

func getCounts(n int) []int {
	if p, ok := countsPool.Get().(*[]int); ok && cap(*p) >= n {
		c := (*p)[:n]
		clear(c)
		return c
	}
	return make([]int, n, n+1) // countsCols asks for one more
}

func putCounts(c []int) { countsPool.Put(&c) }

// counts returns the facet counts of the documents of b (card of them) by
// global value id, the cheapest of five ways, in element tests: a visit
// of each document's values; every value's size less a visit of the
// documents left out; from the row of one of terms, the query's words
// (termCounts); for a text query's large result, from the rows of the
// categories it covers (coverCount); for a dense b, by column
// (countsCols), its documents being close together so that the columns
// are read nearly in sequence. A sparse b's documents are far apart: each
// column entry would be a cache miss of its own. The caller holds the
// read lock.
func (m *mem) counts(b *roaring.Bitmap, card int, terms []uint32) []int {
	out := getCounts(len(m.fvals))
	if card == 0 {
		return out
	}
	live := int(m.live.GetCardinality())
	perDoc := len(m.fa) / max(len(m.docs), 1) // removed documents' values are few: compact keeps them under a quarter
	visit, leftOut := card*perDoc, (live-card)*perDoc
	var cols []field
	byCol := visit
	if dense(b, card) {
		cols, byCol = m.colPlan(card)
	}
	bound := min(visit, byCol, leftOut)
	byTerm, hasTerm := m.termCounts(b, card, perDoc, terms, bound)
	if hasTerm {
		bound = byTerm.cost
	}
	switch {
	// From termRowMin matches on, as for the terms' rows: below, a visit is cheap anyway.
	case len(terms) > 0 && card >= m.termRowMin && m.coverCount(b, card, perDoc, bound, out):
	case hasTerm:
		m.countFromTerm(b, card, byTerm, out)
	case leftOut < min(visit, byCol):
		for i := range m.fvals {
			out[i] = int(m.fvals[i].bits.GetCardinality())
		}
		m.visit(roaring.AndNot(m.live, b), -1, out)
	case byCol < visit:
		m.countsCols(b, cols, out)
	default:
		m.visit(b, 1, out)
	}
	return out
}

// visit adds inc to out at every value of every document of b. In
// batches, from the compact spans: it reads 8 bytes per document and its
// values, not the whole document.
func (m *mem) visit(b *roaring.Bitmap, inc int, out []int) {
	var buf [256]uint32
	it := b.ManyIterator()
	fa, spans := m.fa, m.spans
	for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
		for _, n := range buf[:k] {
			sp := spans[n]
			for _, i := range fa[sp>>16 : sp>>16+sp&0xffff] {
				out[i] += inc
			}
		}
	}
}

// countCategories adds inc to the rows of byCategory of d's categories, at
// each of d's values. The caller holds mu for writing.
func (m *mem) countCategories(d *doc, inc int32) {
	vals := m.vals(d)
	for _, c := range vals {
		if m.fvals[c].field != ffCategory {
			continue
		}
		m.addToRow(m.byCategory, c, vals, inc)
	}
}

// addToRow adds inc to rows[key] at each of vals, first growing the row to
// every facet value (rows end in zeros for values added after them). The
// caller holds mu for writing.
func (m *mem) addToRow(rows map[uint32][]int32, key uint32, vals []uint32, inc int32) {
	row := rows[key]
	if n := len(m.fvals); len(row) < n {
		row = append(row, make([]int32, n-len(row))...)
		rows[key] = row
	}
	for _, v := range vals {
		row[v] += inc
	}
}

// rowInto copies a count row into out (by value id; out is longer).
func rowInto(row []int32, out []int) {
	for v, n := range row {
		out[v] = int(n)
	}
}

// categoryCounts returns the facet counts of the documents of the category
// with value id c, from byCategory: a copy of its row. The caller holds
// the read lock.
func (m *mem) categoryCounts(c uint32) []int {
	out := getCounts(len(m.fvals))
	rowInto(m.byCategory[c], out)
	return out
}

// facetLists turns counts by value id into each facet's listed values:
// by count, then value, cut to the facet's size.
func (m *mem) facetLists(counts []int) map[string][]FacetValue {
	out := make(map[string][]FacetValue, nFields+1)
	heaps := topHeaps.Get().(*[nFields][]FacetValue)
	defer topHeaps.Put(heaps)
	var top [nFields]topValues
	for f := range top {
		top[f].k, top[f].heap = facetNames[f].size, heaps[f][:0]
	}
	for i, c := range counts {
		if c > 0 {
			fv := &m.fvals[i]
			top[fv.field].add(FacetValue{Value: fv.name, Count: c})
		}
	}
	for f := range top {
		out[facetNames[f].name] = top[f].sorted()
		heaps[f] = top[f].heap
	}
	return out
}

// facetOrder is the order of a facet's values: by count, then value.
func facetOrder(a, b FacetValue) int {
	return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
}

// topValues keeps the k first values in facetOrder of those added, in a
// heap whose root is the last of them: a result with thousands of
// municipalities allocates k values, not thousands.
type topValues struct {
	k    int
	heap []FacetValue
}

func (t *topValues) add(v FacetValue) {
	h := t.heap
	if len(h) < t.k {
		h = append(h, v)
		for i := len(h) - 1; i > 0; { // up
			p := (i - 1) / 2
			if facetOrder(h[p], h[i]) >= 0 {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.heap = h
		return
	}
	if facetOrder(v, h[0]) >= 0 {
		return // after every kept value
	}
	h[0] = v
	for i := 0; ; { // down
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		if r := l + 1; r < len(h) && facetOrder(h[r], h[l]) > 0 {
			l = r
		}
		if facetOrder(h[i], h[l]) >= 0 {
			break
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

// sorted returns the kept values in facetOrder, in an array of their own:
// the heap's is a scratch one (topHeaps).
func (t *topValues) sorted() []FacetValue {
	slices.SortFunc(t.heap, facetOrder)
	return append(make([]FacetValue, 0, len(t.heap)), t.heap...)
}

// topHeaps are facetLists' heaps, reused: a list grown one value at a
// time would allocate twice its size.
var topHeaps = sync.Pool{New: func() any { return new([nFields][]FacetValue) }}
