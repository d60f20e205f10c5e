package search

import (
	"bytes"
	"context"
	"testing"

	"github.com/difronte/difronte/node/catalogue"
)

// TestReusedPagesAnswerAlike checks the search route's reused page arrays
// (pageBuf): answers built one after another in the same arrays, large and
// small pages in turn so that each finds the last one's leftovers, are
// byte for byte those built in new arrays.
func TestReusedPagesAnswerAlike(t *testing.T) {
	x := bareIndex(t)
	putAll(t, x, genOfferings(23, 1500), 30)
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
	for round := range 2 {
		for _, q := range queries {
			want, err := c.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.answer(context.Background(), q, b)
			if err != nil {
				t.Fatal(err)
			}
			if w, g := want.AppendJSON(nil), got.AppendJSON(nil); !bytes.Equal(w, g) {
				t.Fatalf("round %d, %+v: in reused arrays\n%s\nin new ones\n%s", round, q, g, w)
			}
			if q.Text == "zzzzqq" && !bytes.Contains(want.AppendJSON(nil), []byte(`"results":[]`)) {
				t.Fatalf("an empty page is not an empty list: %s", want.AppendJSON(nil))
			}
			if len(want.Results) == 0 && q.Text != "zzzzqq" {
				t.Fatalf("%+v found nothing: the test covers less than it says", q)
			}
		}
	}
}
