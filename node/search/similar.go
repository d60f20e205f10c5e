package search

import (
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
)

// A text search of several words requires every word. When that finds
// fewer than similarBelow offerings, the first page also lists up to
// maxSimilar partial matches ("anziana sola": the offerings about
// anziani), which the pages show apart and labelled as such.
const (
	similarBelow = 3
	maxSimilar   = 10
)

// similar returns up to n documents passing q's filters that have some of
// the words but not all: those with more of the words first, each group
// in name order. Read lock held, after sortOrder.
//
// atLeast[k] is the documents with at least k of the words, built word by
// word (a document with the word joins level k from level k-1): len(tokens)²
// bitmap operations, whatever the catalogue's size.
func (m *mem) similar(q Query, tokens []string, now time.Time, n int) []uint32 {
	sets, empty, _, _, _ := m.filters(q, now)
	if empty {
		return nil
	}
	base := m.live
	if len(sets) > 0 {
		base = roaring.FastAnd(sets...)
	}
	atLeast := make([]*roaring.Bitmap, len(tokens)+1)
	atLeast[0] = base
	for k := 1; k <= len(tokens); k++ {
		atLeast[k] = roaring.New()
	}
	for _, t := range tokens {
		b := m.matching(t, utf8.RuneCountInString(t) >= fuzzyMinLen)
		for k := len(tokens); k >= 1; k-- {
			if !atLeast[k-1].IsEmpty() {
				atLeast[k].Or(roaring.And(atLeast[k-1], b))
			}
		}
	}
	var out []uint32
	for k := len(tokens) - 1; k >= 1 && len(out) < n; k-- {
		tier := roaring.AndNot(atLeast[k], atLeast[k+1])
		out = append(out, m.page(tier, 0, n-len(out))...)
	}
	return out
}
