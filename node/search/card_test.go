package search

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// TestAnswerCardsAndFunnelFacets checks that an answer carries cards made
// from the listings and the funnel's facets, and all of them on request.
func TestAnswerCardsAndFunnelFacets(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, newReplica(t), maxPublishersFacet+3)
	f.coop(t, 0, "Coop Uno")
	idx := f.open(t, "")
	defer idx.Close()
	offers := genOfferings(7, 300)
	paid := offering("00000000-0000-4000-8000-000000000999", "Badante di notte", "Assistenza notturna", "anziani.assistenza-domiciliare")
	paid.Cost = schema.Cost{Type: schema.CostPaid, Description: "lungo testo", Options: []schema.CostOption{
		{Option: "Notte", AmountCents: 9000, Currency: "EUR", Unit: "day"}, {Option: "Settimana", AmountCents: 50000, Currency: "EUR", Unit: "week"}}}
	paid.Areas = []string{"080063", "080096", "015146", "058091"}
	for i, o := range offers {
		f.publish(t, i%len(f.keys), o)
	}
	f.publish(t, 0, paid)
	f.sync(t)
	listings, err := catalogue.NewFederated(ctx, f.rep)
	if err != nil {
		t.Fatal(err)
	}
	c := &Catalogue{Index: idx, Listings: listings}

	ans, err := c.Search(ctx, Query{Text: "badante di notte"})
	if err != nil || len(ans.Results) == 0 {
		t.Fatalf("search: %v %+v", err, ans)
	}
	got := ans.Results[0]
	want := Card{ID: paid.ID, Publisher: f.ids[0], CoopName: "Coop Uno", Name: paid.Name, Category: paid.Category,
		Delivery: "individual", Price: Price{Type: "paid", AmountCents: 9000, Currency: "EUR", Unit: "day"}, MunicipalitiesTotal: 4}
	for _, code := range paid.Areas[:3] {
		m, _ := schema.LookupMunicipality(code)
		want.Municipalities = append(want.Municipalities, Place{Code: code, Name: m.Name})
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Fatalf("card\n got %s\nwant %s", a, b)
	}

	parent := func(code string) string { t, _ := schema.Term(code); return t.Parent }
	for _, cat := range []string{"", "anziani", "anziani.assistenza-domiciliare"} {
		q := Query{Category: cat}
		ans, err := c.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		top := cat
		if p := parent(cat); p != "" {
			top = p
		}
		if len(ans.Facets[FacetCategory]) == 0 {
			t.Fatalf("category %q: no category facet", cat)
		}
		for _, v := range ans.Facets[FacetCategory] {
			if parent(v.Value) != top {
				t.Errorf("category %q: facet lists %s, not a child of %q", cat, v.Value, top)
			}
		}
		if n := len(ans.Facets[FacetMunicipality]); n != maxPlacesFacet {
			t.Errorf("category %q: %d municipalities, want %d", cat, n, maxPlacesFacet)
		}
		q.AllFacets = true
		all, err := c.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		res := search(t, idx, q)
		coops := len(res.Facets[FacetPublisher])
		if cat == "" && coops != len(f.keys) {
			t.Errorf("whole catalogue: the index lists %d coops, want %d", coops, len(f.keys))
		}
		if n := len(ans.Facets[FacetPublisher]); len(all.Facets[FacetPublisher]) != coops || n != min(coops, maxPublishersFacet) {
			t.Errorf("category %q: %d coops, %d with all facets; the index lists %d", cat, n, len(all.Facets[FacetPublisher]), coops)
		}
		if len(all.Facets[FacetCategory]) != len(res.Facets[FacetCategory]) || len(all.Facets[FacetMunicipality]) != len(res.Facets[FacetMunicipality]) {
			t.Errorf("category %q with all facets: %d categories, %d municipalities; the index lists %d, %d", cat,
				len(all.Facets[FacetCategory]), len(all.Facets[FacetMunicipality]), len(res.Facets[FacetCategory]), len(res.Facets[FacetMunicipality]))
		}
	}

	total, page, err := c.SearchListings(ctx, Query{Text: "badante di notte"})
	if err != nil || total == 0 || page[0].Cost.Description != "lungo testo" {
		t.Fatalf("listings: %v %d %+v", err, total, page)
	}
}

func TestParseQueryFacets(t *testing.T) {
	q, err := ParseQuery(url.Values{"facets": {"all"}}, false)
	if err != nil || !q.AllFacets {
		t.Fatalf("facets=all: %v %+v", err, q)
	}
	if _, err := ParseQuery(url.Values{"facets": {"some"}}, false); err == nil {
		t.Fatal("facets=some accepted")
	}
}

// cardOf is the card of a listing as the store holds it: what the
// index's own cards must equal.
func cardOf(l catalogue.Listing, q *Qualification) Card {
	c := Card{
		ID: l.ID, Publisher: l.Publisher, CoopName: l.CoopName, Name: l.Name, Category: l.Category,
		Delivery: string(l.Delivery), Price: Price{Type: string(l.Cost.Type)},
		Municipalities: make([]Place, 0, min(len(l.Areas), maxCardPlaces)), MunicipalitiesTotal: len(l.Areas),
		Qualified: q,
	}
	if l.Cost.Type != schema.CostFree && len(l.Cost.Options) > 0 {
		o := l.Cost.Options[0]
		c.Price.AmountCents, c.Price.Currency, c.Price.Unit = o.AmountCents, o.Currency, string(o.Unit)
	}
	for _, a := range l.Areas[:min(len(l.Areas), maxCardPlaces)] {
		p := Place{Code: a}
		if m, ok := schema.LookupMunicipality(a); ok {
			p.Name = m.Name
		}
		c.Municipalities = append(c.Municipalities, p)
	}
	return c
}

// TestCardsFromIndexMatchListings checks that every card the index makes
// (no store read) equals the card made from the stored listing, on a
// fresh index and on one loaded from its snapshot.
func TestCardsFromIndexMatchListings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(t, newReplica(t), 3)
	f.coop(t, 0, "Coop Uno")
	f.coop(t, 1, "Coop Due")
	idx := f.open(t, dir)
	for i, o := range genOfferings(11, 400) {
		f.publish(t, i%3, o)
	}
	f.sync(t)
	listings, err := catalogue.NewFederated(ctx, f.rep)
	if err != nil {
		t.Fatal(err)
	}
	check := func(idx *Index, when string) {
		t.Helper()
		c := &Catalogue{Index: idx, Listings: listings}
		n := 0
		for _, q := range []Query{{PerPage: 100}, {PerPage: 100, Page: 3}, {Text: "anziani", PerPage: 100}, {Text: "trasporto sociale"}} {
			ans, err := c.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range append(ans.Results, ans.Similar...) {
				l, err := listings.Get(ctx, got.Publisher, got.ID)
				if err != nil {
					t.Fatalf("%s: listing %s: %v", when, got.ID, err)
				}
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(cardOf(l, got.Qualified))
				if string(a) != string(b) {
					t.Fatalf("%s: card from the index\n got %s\nwant %s", when, a, b)
				}
				n++
			}
		}
		if n < 200 {
			t.Fatalf("%s: only %d cards compared", when, n)
		}
	}
	check(idx, "fresh")
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	idx = f.open(t, dir)
	defer idx.Close()
	check(idx, "from the snapshot")
}
