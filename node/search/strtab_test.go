package search

import (
	"bytes"
	"context"
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// TestCollidingHashesAnswerAlike builds two indexes of the same
// offerings, one whose ids, terms and names all fall into seven hashes,
// then replaces and removes offerings in both: every search, every
// qualification and every HSDS lookup answers the same in both.
func TestCollidingHashesAnswerAlike(t *testing.T) {
	seven := func(s string) uint64 {
		f := fnv.New64a()
		f.Write([]byte(s))
		return f.Sum64() % 7
	}
	offers := genOfferings(31, 900)
	qual := func(i int, o schema.Offering) *Qualification {
		if i%4 != 0 {
			return nil
		}
		return &Qualification{Authority: "Autorità " + o.ID, Until: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	build := func(collide bool) *Catalogue {
		x := bareIndex(t)
		if collide {
			x.mem.byID.SetHash(seven)
			x.mem.terms.idx.SetHash(seven)
			x.mem.nameIdx.SetHash(seven)
		}
		putQualified(t, x, offers, 30, qual)
		renamed := make([]schema.Offering, 0, 300)
		for _, o := range offers[:300] {
			o.Name = "Nuovo " + o.Name
			renamed = append(renamed, o)
		}
		putQualified(t, x, renamed, 30, qual)
		for i, o := range offers[600:] {
			if i%2 == 0 {
				x.mem.delete(docID("12D3KooWPub"+strconv.Itoa((600+i)%30), o.ID))
			}
		}
		listings, err := catalogue.NewFederated(context.Background(), x.cfg.Replica)
		if err != nil {
			t.Fatal(err)
		}
		return &Catalogue{Index: x, Listings: listings}
	}
	plain, colliding := build(false), build(true)
	if colliding.Index.mem.byID.Collided() == 0 || colliding.Index.mem.terms.idx.Collided() == 0 {
		t.Fatal("no collision: the test covers less than it says")
	}
	queries := []Query{
		{Text: "servizio", PerPage: 100}, {Text: "nuovo", PerPage: 100}, {Text: offers[10].Name}, {Text: "Nuovo " + offers[20].Name},
		{Text: offers[650].Name}, {Text: offers[651].Name}, {Text: "sevizio"}, {Category: "anziani", PerPage: 100}, {AllFacets: true},
		{Text: "assistenza domiciliare", QualifiedOnly: true, PerPage: 100},
	}
	for _, q := range queries {
		w, err := plain.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		g, err := colliding.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if wj, gj := w.AppendJSON(nil), g.AppendJSON(nil); !bytes.Equal(wj, gj) {
			t.Fatalf("%+v: with colliding hashes\n%s\nwithout\n%s", q, gj, wj)
		}
	}
	found := 0
	for i, o := range offers {
		pub := "12D3KooWPub" + strconv.Itoa(i%30)
		wq, wok := plain.Index.QualificationOf(pub, o.ID)
		gq, gok := colliding.Index.QualificationOf(pub, o.ID)
		if wq != gq || wok != gok {
			t.Fatalf("%s: qualification %+v, %v with colliding hashes; %+v, %v without", o.ID, gq, gok, wq, wok)
		}
		hsds := schema.DerivedUUID("service", pub, o.ID)
		wp, wk, wok := plain.Index.LookupHSDS(context.Background(), hsds)
		gp, gk, gok := colliding.Index.LookupHSDS(context.Background(), hsds)
		if wp != gp || wk != gk || wok != gok {
			t.Fatalf("%s: HSDS lookup %s %s %v with colliding hashes; %s %s %v without", o.ID, gp, gk, gok, wp, wk, wok)
		}
		if gok {
			found++
		}
	}
	if found != 900-150 {
		t.Fatalf("%d offerings found by HSDS id, want 750", found)
	}
}

// TestRenamesFreeNames renames every offering five times: the names no
// offering holds any more are forgotten and their numbers reused, so the
// names held stay those of the offerings, and each current name still finds
// its offering exactly (the first rank tier).
func TestRenamesFreeNames(t *testing.T) {
	x := bareIndex(t)
	offers := genOfferings(41, 200)
	for round := range 5 {
		renamed := make([]schema.Offering, len(offers))
		for i, o := range offers {
			o.Name = "Giro " + strconv.Itoa(round) + " " + strconv.Itoa(i)
			renamed[i] = o
		}
		putAll(t, x, renamed, 10)
	}
	m := x.mem
	if n := m.nameIdx.Len(); n != len(offers) {
		t.Fatalf("%d names held for %d offerings", n, len(offers))
	}
	if len(m.names) > 2*len(offers) {
		t.Fatalf("%d name numbers after five renames of %d offerings: freed numbers are not reused", len(m.names), len(offers))
	}
	for i, o := range offers {
		r := search(t, x, Query{Text: "Giro 4 " + strconv.Itoa(i)})
		if len(r.Hits) == 0 || r.Hits[0].Key != o.ID {
			t.Fatalf("offering %d: the exact name finds %v first", i, hitKeys(r))
		}
		if _, ok := m.nameIdx.Get(foldKey("Giro 3 "+strconv.Itoa(i)), m.keyOfName); ok {
			t.Fatalf("offering %d: an old name is still held", i)
		}
	}
}
