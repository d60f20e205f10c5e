package search

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// TestReusedPagesAnswerAlike checks the search route's reused arrays
// (pageBuf, topHeaps): answers built one after another in the same arrays,
// large and small pages in turn so that each finds the last one's
// leftovers, are byte for byte those built in new arrays; every card's
// qualification is its own; and a cached result answers the same after
// every other query has reused the arrays.
func TestReusedPagesAnswerAlike(t *testing.T) {
	x := bareIndex(t)
	// A third of the offerings qualified, each by an authority of its
	// own name: a qualification left from another page shows.
	qualifiedIDs := map[string]bool{}
	putQualified(t, x, genOfferings(23, 1500), 30, func(i int, o schema.Offering) *Qualification {
		if i%3 != 0 {
			return nil
		}
		qualifiedIDs[o.ID] = true
		return &Qualification{Authority: "Autorità " + o.ID, Until: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
	})
	listings, err := catalogue.NewFederated(context.Background(), x.cfg.Replica)
	if err != nil {
		t.Fatal(err)
	}
	c := &Catalogue{Index: x, Listings: listings}
	queries := []Query{
		{Text: "servizio", PerPage: 50}, {Text: "zzzzqq"}, {Category: "anziani"}, {Text: "assistenza domiciliare", PerPage: 100},
		{Text: "compagnia", Page: 2, PerPage: 7}, {AllFacets: true}, {Text: "sevizio", PerPage: 3}, {Text: "servizi aiuto"},
	}
	b := &pageBuf{}
	qualified := 0
	first := make([][]byte, len(queries))
	for round := range 2 {
		for i, q := range queries {
			want, err := c.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.answer(context.Background(), q, b)
			if err != nil {
				t.Fatal(err)
			}
			w, g := want.AppendJSON(nil), got.AppendJSON(nil)
			if !bytes.Equal(w, g) {
				t.Fatalf("round %d, %+v: in reused arrays\n%s\nin new ones\n%s", round, q, g, w)
			}
			// The second round answers from the result cache, after every
			// other query: what the first one cached must not have changed.
			if round == 0 {
				first[i] = w
			} else if !bytes.Equal(first[i], w) {
				t.Fatalf("%+v: answered from the cache after other queries\n%s\nfirst\n%s", q, w, first[i])
			}
			if q.Text == "zzzzqq" && !bytes.Contains(want.AppendJSON(nil), []byte(`"results":[]`)) {
				t.Fatalf("an empty page is not an empty list: %s", want.AppendJSON(nil))
			}
			for _, r := range got.Results {
				if r.Qualified != nil {
					qualified++
				}
				if (r.Qualified != nil) != qualifiedIDs[r.ID] || r.Qualified != nil && r.Qualified.Authority != "Autorità "+r.ID {
					t.Fatalf("%+v: %s qualified as %+v", q, r.ID, r.Qualified)
				}
			}
			if len(want.Results) == 0 && q.Text != "zzzzqq" {
				t.Fatalf("%+v found nothing: the test covers less than it says", q)
			}
		}
	}
	if qualified == 0 {
		t.Fatal("no qualified result: the test covers less than it says")
	}
}
