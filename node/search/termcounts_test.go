package search

import (
	"testing"
)

// TestTermCountsFollowChanges checks the rows kept per term (byTerm, what
// a text query's facets are counted from) against a count over the
// documents themselves, after documents were added, replaced with other
// words, categories and places, and removed; and every way of counting
// against plain counts for results near and far from the rows' terms.
func TestTermCountsFollowChanges(t *testing.T) {
	x := churnedIndex(t, 3000, func(m *mem) { m.termRowMin, m.maxTermRows = 40, 1<<20 })
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.byTerm) < 20 {
		t.Fatalf("only %d terms have a row: the test covers too few", len(m.byTerm))
	}
	for id, row := range m.byTerm {
		want := plainCounts(m, m.bitsOf(m.all[id]))
		for v, n := range want {
			if got := rowAt(row, v); got != n {
				t.Fatalf("term %s, value %s: kept count %d, plain count %d", m.terms.str(id), m.fvals[v].name, got, n)
			}
		}
	}
	for i := range m.all {
		if _, has := m.byTerm[uint32(i)]; !has && m.bitsOf(m.all[i]) != nil && m.bitsOf(m.all[i]).GetCardinality() >= uint64(m.termRowMin) {
			t.Errorf("term %s is in %d documents but has no row", m.terms.str(uint32(i)), m.bitsOf(m.all[i]).GetCardinality())
		}
	}
	for _, text := range []string{"servizio", "assistenza domiciliare", "anziani", "badante notte", "trasporto"} {
		b := m.matching(x.terms(text, 1)[0], true)
		checkCounts(t, m, text, b, m.facetLists(plainCounts(m, b)))
		half := everyKth(m, 2)
		half.And(b)
		checkCounts(t, m, text+", half", half, m.facetLists(plainCounts(m, half)))
	}
}

// TestTermRowsBounded checks that no more than maxTermRows terms get a row,
// nor more than termRowBytes of rows, and that a term left in no document
// loses its row.
func TestTermRowsBounded(t *testing.T) {
	// Rows made once every value is known: one more document, of values
	// the index has, gives a row to each of its terms the bounds allow.
	y := churnedIndex(t, 3000, func(m *mem) { m.termRowMin = 1 << 30 })
	o := genOfferings(5, 2)[1]
	o.ID = "one-more"
	y.mem.mu.Lock()
	y.mem.termRowMin, y.mem.termRowBytes = 40, 4096
	y.mem.put(y.document("12D3KooWPub1", "Cooperativa", o, nil))
	n, vals := len(y.mem.byTerm), len(y.mem.fvals)
	y.mem.mu.Unlock()
	if n == 0 || n*vals*4 > 4096 {
		t.Errorf("%d rows of %d values: none, or over 4,096 bytes", n, vals)
	}
	x := churnedIndex(t, 3000, func(m *mem) { m.termRowMin, m.maxTermRows = 40, 5 })
	m := x.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byTerm) != 5 {
		t.Fatalf("%d terms have a row, want the bound, 5", len(m.byTerm))
	}
	var id uint32
	for id = range m.byTerm {
		break
	}
	for _, n := range m.bitsOf(m.all[id]).ToArray() {
		m.delete(m.idOf(n))
	}
	if _, has := m.byTerm[id]; has {
		t.Errorf("term %s is in no document and still has a row", m.terms.str(id))
	}
}

func rowAt(row []int32, v int) int {
	if v < len(row) {
		return int(row[v])
	}
	return 0
}
