package search

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestTextPagesFollowTiers pages through text queries whose matches fall
// in every rank tier (exact name, every word in the name, every word
// anywhere, through a typo only) and checks the pages against the tiers
// worked out document by document: every match exactly once, tiers in
// order, name order within a tier.
func TestTextPagesFollowTiers(t *testing.T) {
	x := bareIndex(t)
	putAll(t, x, genOfferings(13, 2500), 40)
	m := x.mem
	// The tier of document n for a query, from the postings alone.
	tierOf := func(n uint32, text string, tokens []string) int {
		if m.nameKey(&m.docs[n]) == foldKey(text) {
			return 0
		}
		inName, inAll := true, true
		for _, tok := range tokens {
			i, ok := m.terms.id(tok)
			inName = inName && ok && m.bitmap(m.name[i]).Contains(n)
			inAll = inAll && ok && m.bitmap(m.all[i]).Contains(n)
		}
		switch {
		case inName:
			return 1
		case inAll:
			return 2
		}
		return 3
	}
	queries := []string{"servizio", "sevizio", "servizi aiuto", "assistenza domiciliare", "pasti a domicilio", "compagnia", "terapia"}
	seen3 := false
	for _, q := range queries {
		text := words(q)
		tokens := x.terms(text, maxWords)
		var got []Hit
		total := -1
		for page := 1; page < 1000; page++ {
			r, err := x.Search(context.Background(), Query{Text: q, Page: page, PerPage: 7})
			if err != nil {
				t.Fatal(err)
			}
			total = r.Total
			got = append(got, r.Hits...)
			if len(r.Hits) < 7 {
				break
			}
		}
		if len(got) != total || total == 0 {
			t.Fatalf("%q: paged through %d hits, total %d", q, len(got), total)
		}
		m.mu.RLock()
		m.sortOrder()
		seen := map[uint32]bool{}
		last := [2]int{-1, -1} // tier, rank
		for i, h := range got {
			n, ok := m.byID.Get(docID(h.Publisher, h.Key), m.idOf)
			if !ok || seen[n] {
				m.mu.RUnlock()
				t.Fatalf("%q: hit %d (%s) unknown or twice", q, i, h.Key)
			}
			seen[n] = true
			tier, rank := tierOf(n, text, tokens), int(m.rank[n])
			if tier == 3 {
				seen3 = true
			}
			if want := float64(4 - tier); h.Score != want {
				t.Errorf("%q: hit %d in tier %d scored %v", q, i, tier, h.Score)
			}
			if tier < last[0] || tier == last[0] && rank <= last[1] {
				m.mu.RUnlock()
				t.Fatalf("%q: hit %d (tier %d, rank %d) after (tier %d, rank %d)", q, i, tier, rank, last[0], last[1])
			}
			last = [2]int{tier, rank}
		}
		m.mu.RUnlock()
	}
	if !seen3 {
		t.Fatal("no query reached the typo tier: the test does not cover it")
	}
}

// TestTiersLeavePostingsAlone checks that a text query whose tiers share
// the index's own bitmaps (andOf: a word's documents within every other
// set) changes none of them: every posting and facet bitmap has the same
// documents after every query, pages of every tier included, as before.
func TestTiersLeavePostingsAlone(t *testing.T) {
	x := bareIndex(t)
	putAll(t, x, genOfferings(17, 2500), 40)
	m := x.mem
	m.noResultCache = true
	snapshot := func() []uint64 {
		var out []uint64
		for i := range m.all {
			out = append(out, m.bitmap(m.all[i]).GetCardinality(), m.bitmap(m.name[i]).GetCardinality())
		}
		for _, v := range m.fvals {
			out = append(out, v.bits.GetCardinality())
		}
		return out
	}
	before := snapshot()
	shared := 0
	for _, text := range []string{"servizio", "assistenza domiciliare", "servizi aiuto", "compagnia", "terapia", "pasti a domicilio"} {
		tokens := x.terms(words(text), maxWords)
		m.mu.RLock()
		var sets []*roaring.Bitmap
		for _, tok := range tokens {
			sets = append(sets, m.matching(tok, true))
		}
		if _, ok := andOf(sets); ok {
			shared++
		}
		m.mu.RUnlock()
		for page := 1; page <= 30; page++ {
			if _, err := x.Search(context.Background(), Query{Text: text, Page: page, PerPage: 100}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if shared == 0 {
		t.Fatal("no query shared a bitmap of the index: the test covers nothing")
	}
	if after := snapshot(); !slices.Equal(before, after) {
		t.Error("a query changed the index's bitmaps")
	}
}

func TestAndOf(t *testing.T) {
	a, b, c := roaring.BitmapOf(1, 2, 3, 4), roaring.BitmapOf(2, 3), roaring.BitmapOf(0, 2, 3, 9)
	if got, shared := andOf([]*roaring.Bitmap{a, b, c}); got != b || !shared {
		t.Errorf("b within a and c: got %v shared %v, want b itself", got, shared)
	}
	d := roaring.BitmapOf(3, 4)
	got, shared := andOf([]*roaring.Bitmap{a, b, d})
	if shared || !got.Equals(roaring.BitmapOf(3)) || got == b || got == d {
		t.Errorf("a, b, d: got %v shared %v, want a new {3}", got, shared)
	}
}

// TestTiersCountedBeforeMade checks the tiers that splitTiers only counts:
// each is counted as many documents as it has once a page makes it, and
// the broad queries of the test leave at least one tier unmade until then
// (else the test covers nothing).
func TestTiersCountedBeforeMade(t *testing.T) {
	x := bareIndex(t)
	putAll(t, x, genOfferings(19, 2500), 40)
	m := x.mem
	counted := 0
	for _, text := range []string{"servizio", "sevizio", "assistenza domiciliare", "servizi aiuto", "compagnia", "terapia", "pasti a domicilio"} {
		text = words(text)
		tokens := x.terms(text, maxWords)
		m.mu.RLock()
		r := m.compute(Query{Text: text}, text, tokens, time.Now())
		m.mu.RUnlock()
		sum := 0
		for k := range r.tiers {
			unmade := r.tiers[k] == nil && r.cards[k] > 0
			b := r.tier(k)
			if got := 0; b != nil {
				got = int(b.GetCardinality())
				if got != r.cards[k] {
					t.Errorf("%q tier %d: counted %d, made with %d", text, k, r.cards[k], got)
				}
			} else if r.cards[k] != 0 {
				t.Errorf("%q tier %d: counted %d, made none", text, k, r.cards[k])
			}
			if unmade && k < 3 {
				counted++
			}
			sum += r.cards[k]
			for j := range k {
				if e := r.tier(j); b != nil && e != nil && b.Intersects(e) {
					t.Errorf("%q: tiers %d and %d overlap", text, j, k)
				}
			}
		}
		if sum != r.card {
			t.Errorf("%q: tiers hold %d, result %d", text, sum, r.card)
		}
	}
	if counted == 0 {
		t.Fatal("no tier before the last was counted before being made: the test covers nothing")
	}
}
