package search

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestFacetColumnsFollowChanges checks the facet counts by column (the
// column entries, the documents with other values, the categories'
// ancestors) against plain counts, after documents were added, replaced
// with other categories, places and languages, and removed. The generated
// offerings have second categories, places and languages, so the visit of
// the values columns do not hold is covered too.
func TestFacetColumnsFollowChanges(t *testing.T) {
	x := churnedIndex(t, 3000)
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, f := range []field{ffCategory, ffPlace, ffLang} {
		if m.rest[f].IsEmpty() {
			t.Fatalf("no document has a second value of field %d: the test covers too little", f)
		}
		if !roaring.AndNot(m.rest[f], m.live).IsEmpty() {
			t.Errorf("field %d: removed documents are still counted as having other values", f)
		}
	}
	every := func(k int) *roaring.Bitmap { return everyKth(m, k) }
	sets := map[string]*roaring.Bitmap{
		"everything": m.live, "half": every(2), "a fifth": every(5), "sparse": every(61),
		"common word": m.matching(x.terms("servizio", 1)[0], false),
		"category":    m.fvals[m.fids[ffCategory]["anziani"]].bits,
	}
	for name, b := range sets {
		checkCounts(t, m, name, b, m.facetLists(plainCounts(m, b)))
	}
}
