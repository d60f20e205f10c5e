package search

import (
	"context"
	"testing"

	"github.com/difronte/difronte/node/catalogue"
)

// TestNoResultHook: a search that finds nothing hands its codes (never its
// text) to the NoResult hook; a search with results, or with no criteria,
// does not.
func TestNoResultHook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, newReplica(t), 1)
	f.coop(t, 0, "Coop Uno")
	idx := f.open(t, "")
	defer idx.Close()
	f.publish(t, 0, offering("00000000-0000-4000-8000-000000000001", "Badante di notte", "Assistenza notturna", "anziani.assistenza-domiciliare"))
	f.sync(t)
	listings, err := catalogue.NewFederated(ctx, f.rep)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string
	c := &Catalogue{Index: idx, Listings: listings, NoResult: func(_ context.Context, category, municipality string) {
		got = append(got, [2]string{category, municipality})
	}}
	waitFor := func(q Query, total int) {
		t.Helper()
		ans, err := c.Search(ctx, q)
		if err != nil || ans.Total != total {
			t.Fatalf("search %+v: %v, total %d, want %d", q, err, ans.Total, total)
		}
	}
	waitFor(Query{Text: "badante"}, 1)
	waitFor(Query{}, 1)
	waitFor(Query{Text: "idraulico subacqueo", Category: "anziani.assistenza-domiciliare", Municipality: "015146"}, 0)
	waitFor(Query{Text: "zzzqqq"}, 0)
	want := [][2]string{{"anziani.assistenza-domiciliare", "015146"}, {"", ""}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("hook heard %v, want %v", got, want)
	}
}
