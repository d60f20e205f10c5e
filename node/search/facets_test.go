package search

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/difronte/difronte/schema"
)

// TestFacetCountsAndPagesAgree checks the fast paths of a query against a
// plain count and a plain walk of the name order, on sets large enough for
// the intersection counts and their top-N cut (300 publishers, hundreds of
// places: more values than a facet lists) and sparse enough for the rank
// selection of a page.
func TestFacetCountsAndPagesAgree(t *testing.T) {
	x := bareIndex(t)
	putAll(t, x, genOfferings(9, 5600), 300)
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	m.sortOrder()

	every := func(k int) *roaring.Bitmap { return everyKth(m, k) }
	sets := map[string]*roaring.Bitmap{
		"everything": m.live, "half": every(2), "a third": every(3), "sparse": every(97), "one": every(1 << 30), "none": roaring.New(),
		"common word": m.matching(x.terms("servizio", 1)[0], true),
		"category":    m.fvals[m.fids[ffCategory]["anziani"]].bits,
	}
	for name, b := range sets {
		checkCounts(t, m, name, b, m.facetLists(plainCounts(m, b)))
		var inOrder []uint32
		for _, n := range m.order {
			if b.Contains(n) {
				inOrder = append(inOrder, n)
			}
		}
		for _, pg := range []struct{ off, n int }{{0, 1}, {0, 20}, {7, 10}, {40, 100}, {len(inOrder) - 3, 20}, {len(inOrder) + 5, 10}} {
			if pg.off < 0 {
				continue
			}
			lo, hi := min(pg.off, len(inOrder)), min(pg.off+pg.n, len(inOrder))
			exp := inOrder[lo:hi]
			if got := m.page(b, pg.off, pg.n); !slices.Equal(got, exp) && len(got)+len(exp) > 0 {
				t.Errorf("%s: page(%d, %d) = %v, want %v", name, pg.off, pg.n, got, exp)
			}
			if got := m.topRanks(b, pg.off, pg.n); !slices.Equal(got, exp) && len(got)+len(exp) > 0 {
				t.Errorf("%s: topRanks(%d, %d) = %v, want %v", name, pg.off, pg.n, got, exp)
			}
		}
	}
}

// TestCategoryCountsFollowChanges checks the counts kept per category
// (byCategory, what a query filtering only by a category counts from)
// against a count over the documents themselves, after documents were
// added, replaced with other categories and places, and removed.
func TestCategoryCountsFollowChanges(t *testing.T) {
	x := churnedIndex(t, 3000)
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.fids[ffCategory]) < 20 {
		t.Fatalf("only %d categories: the test covers too few", len(m.fids[ffCategory]))
	}
	for name, c := range m.fids[ffCategory] {
		plain := make([]int, len(m.fvals))
		it := m.fvals[c].bits.Iterator()
		for it.HasNext() {
			for _, v := range m.vals(&m.docs[it.Next()]) {
				plain[v]++
			}
		}
		want, got := m.facetLists(plain), m.facetLists(m.categoryCounts(c))
		if !reflect.DeepEqual(want, got) {
			t.Errorf("category %s: kept counts\n%v\nplain counts\n%v", name, got, want)
		}
	}
}

// churnedIndex returns an index of n generated offerings from 40
// publishers after a seventh of them were removed and a third replaced
// with other categories and places: what index structures kept as
// documents come and go are checked on.
func churnedIndex(t *testing.T, n int, setup ...func(*mem)) *Index {
	t.Helper()
	x := bareIndex(t)
	for _, f := range setup {
		f(x.mem)
	}
	offers := genOfferings(5, n)
	again := genOfferings(6, n) // other categories and places for the same ids
	pub := func(i int) string { return "12D3KooWPub" + strconv.Itoa(i%40) }
	bt := x.newBatcher()
	add := func(i int, o schema.Offering) {
		bt.ops = append(bt.ops, op{id: docID(pub(i), offers[i].ID), in: x.document(pub(i), "Cooperativa", o, nil)})
		if err := bt.maybeFlush(); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range offers {
		add(i, o)
	}
	for i := range offers {
		switch {
		case i%7 == 0:
			bt.ops = append(bt.ops, op{id: docID(pub(i), offers[i].ID)})
		case i%3 == 0:
			again[i].ID = offers[i].ID
			again[i].Name = offers[(i+1)%n].Name // names move in the order
			add(i, again[i])
		}
	}
	if err := bt.flush(true); err != nil {
		t.Fatal(err)
	}
	return x
}

// checkCounts checks the facet lists of b's documents counted by counts,
// by intersections only, by columns only, from every term row and from the
// categories b covers against want. Read lock held.
func checkCounts(t *testing.T, m *mem, name string, b *roaring.Bitmap, want map[string][]FacetValue) {
	t.Helper()
	card := int(b.GetCardinality())
	and := make([]int, len(m.fvals))
	for f, ids := range m.bySize().byField {
		m.countField(b, field(f), ids, and)
	}
	cols := make([]int, len(m.fvals))
	m.countsCols(b, []field{ffCategory, ffPlace, ffCost, ffDelivery, ffLang, ffPublisher}, cols)
	all := map[string][]int{"intersection": and, "column": cols, "": m.counts(b, card, slices.Collect(maps.Keys(m.byTerm)))}
	for id := range m.byTerm {
		p, ok := m.termCounts(b, card, 1, []uint32{id}, math.MaxInt)
		if !ok {
			t.Fatalf("term %s has a row but no plan", m.terms.str(id))
		}
		out := make([]int, len(m.fvals))
		m.countFromTerm(b, card, p, out)
		all["row of "+m.terms.str(id)] = out
	}
	if out := make([]int, len(m.fvals)); m.coverCount(b, card, 1, math.MaxInt, out) {
		all["cover"] = out
	}
	for how, counts := range all {
		if got := m.facetLists(counts); !reflect.DeepEqual(want, got) {
			t.Errorf("%s (%d): %s counts\n%v\nplain counts\n%v", name, card, how, got, want)
		}
	}
}

// plainCounts counts the facet values of b's documents one by one, the
// plain way every faster path must agree with. Read lock held.
func plainCounts(m *mem, b *roaring.Bitmap) []int {
	plain := make([]int, len(m.fvals))
	it := b.Iterator()
	for it.HasNext() {
		for _, v := range m.vals(&m.docs[it.Next()]) {
			plain[v]++
		}
	}
	return plain
}

// everyKth is every k-th live document of m. Read lock held.
func everyKth(m *mem, k int) *roaring.Bitmap {
	b := roaring.New()
	for i, n := range m.live.ToArray() {
		if i%k == 0 {
			b.Add(n)
		}
	}
	return b
}
