package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/difronte/difronte/schema"
)

// TestCoverCounts checks the counts of results made of whole categories,
// of parts of them and of other documents, taken from the categories'
// rows (coverCounts), against plain counts, on an index whose documents
// were added, moved to other categories and removed, a fifth of them with
// a second category.
func TestCoverCounts(t *testing.T) {
	checkCover(t, churnedIndex(t, 3000), true)
}

// TestCoverCountsDense is TestCoverCounts on categories of thousands of
// documents in one chunk of 65,536 numbers, which roaring holds as bitsets
// (a union of them written as one must keep every category's bits): with
// a fifth of the documents in a second category, and with none; and with
// some documents filed under a top category whose subcategory others have,
// so that one main category is another's ancestor.
func TestCoverCountsDense(t *testing.T) {
	for _, c := range []struct{ second, nested bool }{{true, false}, {false, false}, {false, true}, {true, true}} {
		x := bareIndex(t)
		offers := genOfferings(8, 15000)
		cats := []string{offers[0].Category, offers[1].Category, offers[2].Category}
		top, _ := schema.TermParent(cats[0])
		for i := range offers {
			offers[i].Category = cats[i%len(cats)]
			if c.nested && i%7 == 0 {
				offers[i].Category = top
			}
			if len(offers[i].Categories) > 0 && c.second {
				offers[i].Categories = []string{cats[(i+1)%len(cats)]}
			} else {
				offers[i].Categories = nil
			}
		}
		putAll(t, x, offers, 40)
		checkCover(t, x, c.second)
	}
}

// checkCover checks the counts of unions of x's categories, whole and
// altered, from the categories' rows, against plain counts; several says
// whether some of x's documents have a second category.
func checkCover(t *testing.T, x *Index, several bool) {
	t.Helper()
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	var cats []uint32
	for v, fv := range m.fvals {
		if fv.field == ffCategory && !fv.bits.IsEmpty() {
			cats = append(cats, uint32(v))
		}
	}
	if got := !m.rest[ffCategory].IsEmpty(); got != several {
		t.Fatalf("documents with a second category: %v, want %v", got, several)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	live := m.live.ToArray()
	if several { // two categories sharing documents, and as many others: the sizes alone add up
		pairs := 0
		for _, c := range cats {
			for _, d := range cats {
				both := roaring.And(m.fvals[c].bits, m.fvals[d].bits)
				if c == d || both.IsEmpty() || m.cols[ffCategory][both.Minimum()] == 0 || pairs == 8 {
					continue
				}
				pairs++
				b := roaring.Or(m.fvals[c].bits, m.fvals[d].bits)
				for _, n := range live {
					if b.GetCardinality() == m.fvals[c].bits.GetCardinality()+m.fvals[d].bits.GetCardinality() {
						break
					}
					b.Add(n)
				}
				checkCounts(t, m, "two categories sharing documents", b, m.facetLists(plainCounts(m, b)))
			}
		}
		if pairs == 0 {
			t.Fatal("no two categories share a document")
		}
	}
	for i := range 60 {
		b := roaring.New()
		whole := 1 + rng.IntN(3)
		for range whole {
			b.Or(m.fvals[cats[rng.IntN(len(cats))]].bits)
		}
		if i%3 == 1 { // a few documents of b left out
			for _, n := range b.ToArray() {
				if rng.IntN(20) == 0 {
					b.Remove(n)
				}
			}
		}
		if i%3 == 2 { // a few documents of other categories in
			for range 30 {
				b.Add(live[rng.IntN(len(live))])
			}
		}
		card := int(b.GetCardinality())
		if out := make([]int, len(m.fvals)); !m.coverCount(b, card, 1, math.MaxInt, out) {
			t.Fatalf("result %d (%d documents, %d whole categories): no cover", i, card, whole)
		}
		if card <= coverSample { // every document's category read
			got := m.sampleCategories(b.ToDense(), card)
			for _, n := range b.ToArray() {
				if c := m.cols[ffCategory][n]; c != 0 && !slices.Contains(got, c-1) {
					t.Fatalf("result %d (%d documents): the sample misses category %s", i, card, m.fvals[c-1].name)
				}
			}
		}
		checkCounts(t, m, "union of categories", b, m.facetLists(plainCounts(m, b)))
	}
}
