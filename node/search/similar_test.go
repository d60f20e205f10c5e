package search

import (
	"slices"
	"testing"

	"github.com/difronte/difronte/schema"
)

// The demo catalogue's kinds of offering, as a newcomer searches them.
func similarDocs() (func(int) string, []schema.Offering) {
	id := func(n int) string {
		return "00000000-0000-4000-8000-0000000001" + string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	return id, []schema.Offering{
		offering(id(1), "Accompagnamento alle visite", "Accompagniamo in auto alle visite mediche e agli esami, con attesa.", "trasporto.visite-mediche"),
		offering(id(2), "Assistenza domiciliare leggera", "Aiuto a casa per alzarsi, vestirsi, preparare i pasti.", "anziani.assistenza-domiciliare"),
		offering(id(3), "Custode sociale di quartiere", "Una persona di riferimento per gli anziani del quartiere.", "anziani.custode-sociale"),
		offering(id(4), "Compagnia a domicilio", "Visite di compagnia agli anziani per leggere e chiacchierare.", "compagnia.visite"),
		offering(id(5), "Passeggiate con il cane", "Portiamo a passeggio il cane di chi non può uscire.", "animali.dog-sitter"),
		offering(id(6), "Sollievo per chi assiste", "Un'operatrice sostituisce per qualche ora il familiare che assiste.", "anziani.sollievo-caregiver"),
	}
}

func TestVerbMeetsNoun(t *testing.T) {
	f := newFixture(t, newReplica(t), 1)
	idx := f.open(t, "")
	defer idx.Close()
	id, docs := similarDocs()
	for _, o := range docs {
		f.publish(t, 0, o)
	}
	f.sync(t)
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"accompagnare", []string{id(1)}},
		{"accompagnatore", []string{id(1)}},
		{"assistere", []string{id(2), id(6)}},
		{"assistenza", []string{id(2), id(6)}},
	} {
		got := hitKeys(search(t, idx, Query{Text: c.q}))
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("q=%q: got %v, want %v", c.q, got, c.want)
		}
	}
}

func TestSimilarWhenFewResults(t *testing.T) {
	f := newFixture(t, newReplica(t), 1)
	idx := f.open(t, "")
	defer idx.Close()
	id, docs := similarDocs()
	for _, o := range docs {
		f.publish(t, 0, o)
	}
	f.sync(t)

	// No offering has both words: none strict, those about anziani (in
	// their text or their category's keywords) similar.
	r := search(t, idx, Query{Text: "anziana sola"})
	if r.Total != 0 || len(r.Hits) != 0 {
		t.Fatalf("anziana sola: strict %d %v, want none", r.Total, hitKeys(r))
	}
	sim := keysOf(r.Similar)
	slices.Sort(sim)
	if want := []string{id(2), id(3), id(4), id(6)}; !slices.Equal(sim, want) {
		t.Fatalf("anziana sola: similar %v, want %v", sim, want)
	}

	// More of the words first: 1 (accompagniamo, visite) and 4 (anziani,
	// visite) have two of the three words, 3 only one (anziani).
	r = search(t, idx, Query{Text: "accompagnare anziani visite"})
	if r.Total != 0 {
		t.Fatalf("strict: %v, want none", hitKeys(r))
	}
	sim = keysOf(r.Similar)
	if len(sim) < 3 || !slices.Contains(sim[:2], id(1)) || !slices.Contains(sim[:2], id(4)) || !slices.Contains(sim, id(3)) {
		t.Fatalf("accompagnare anziani visite: similar %v, want %s and %s (two words) before %s (one)", sim, id(1), id(4), id(3))
	}
	if slices.Contains(sim, id(5)) {
		t.Fatalf("similar %v holds the dog walks, which have none of the words", sim)
	}

	// Enough strict results, a filter, a later page or a single word: no
	// partial matches.
	for _, q := range []Query{
		{Text: "anziani"},
		{Text: "anziana sola", Category: "animali"},
		{Text: "anziana sola", Page: 2},
	} {
		if r := search(t, idx, q); len(r.Similar) != 0 {
			t.Errorf("%+v: similar %v, want none", q, keysOf(r.Similar))
		}
	}
	// A filter also holds for the partial matches.
	r = search(t, idx, Query{Text: "anziana sola", Category: "compagnia"})
	if got := keysOf(r.Similar); !slices.Equal(got, []string{id(4)}) {
		t.Errorf("anziana sola in compagnia: similar %v, want [%s]", got, id(4))
	}
}

func keysOf(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Key)
	}
	return out
}
