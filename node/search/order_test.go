package search

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestOrderChunksFollowChanges checks the name order and its chunks
// (what a page counts and walks) against a plain sort of the live
// documents, and pages of sets of every density against a plain walk,
// after documents were added, replaced under other names and removed.
func TestOrderChunksFollowChanges(t *testing.T) {
	x := churnedIndex(t, 6*rankChunk)
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	m.sortOrder()

	want := m.live.ToArray()
	slices.SortFunc(want, func(a, b uint32) int {
		return cmp.Or(cmp.Compare(m.nameKey(&m.docs[a]), m.nameKey(&m.docs[b])), cmp.Compare(m.idOf(a), m.idOf(b)))
	})
	if !slices.Equal(m.order, want) {
		t.Fatal("the name order is not the live documents sorted by name")
	}
	if len(m.chunks) != (len(want)+rankChunk-1)/rankChunk {
		t.Fatalf("%d chunks for %d documents", len(m.chunks), len(want))
	}
	for c, chunk := range m.chunks {
		exp := roaring.BitmapOf(want[c*rankChunk : min((c+1)*rankChunk, len(want))]...)
		if !chunk.Equals(exp) {
			t.Fatalf("chunk %d holds other numbers than its positions", c)
		}
	}

	// Sets clustered in the order (a run of names) and spread over it.
	sets := map[string]*roaring.Bitmap{"everything": m.live}
	for _, k := range []int{2, 5, 40} {
		spread, run := roaring.New(), roaring.New()
		for i, n := range want {
			if i%k == 0 {
				spread.Add(n)
			}
		}
		run.AddMany(want[len(want)/3 : len(want)/3+len(want)/k])
		sets["every "+strconv.Itoa(k)] = spread
		sets["run 1/"+strconv.Itoa(k)] = run
	}
	for name, b := range sets {
		var inOrder []uint32
		for _, n := range want {
			if b.Contains(n) {
				inOrder = append(inOrder, n)
			}
		}
		for _, pg := range [][2]int{{0, 20}, {19, 20}, {rankChunk - 5, 10}, {len(inOrder) / 2, 100}, {len(inOrder) - 7, 20}, {len(inOrder), 20}} {
			lo, hi := min(pg[0], len(inOrder)), min(pg[0]+pg[1], len(inOrder))
			if got := m.page(b, pg[0], pg[1]); !slices.Equal(got, inOrder[lo:hi]) && len(got)+hi-lo > 0 {
				t.Errorf("%s (%d): page(%d, %d) = %v, want %v", name, len(inOrder), pg[0], pg[1], got, inOrder[lo:hi])
			}
		}
	}
}
