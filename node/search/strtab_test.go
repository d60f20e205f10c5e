package search

import (
	"bytes"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// TestHashIndexCollisions puts and deletes keys of a few colliding hashes
// in random order: after every step, every key of the universe is found
// as a plain map says, keys in over among them.
func TestHashIndexCollisions(t *testing.T) {
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	vals := make([]string, 1000) // value -> its key, as a document number gives its id
	keyOf := func(v uint32) string { return vals[v] }
	h := newHashIndex()
	h.sum = func(s string) uint64 { return uint64(len(s) % 3) } // three hashes for forty keys
	want := map[string]uint32{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range len(vals) {
		k := keys[r.IntN(len(keys))]
		if _, ok := want[k]; ok && r.IntN(2) == 0 {
			h.del(k, keyOf)
			delete(want, k)
		} else {
			if _, ok := want[k]; ok {
				h.del(k, keyOf) // as mem.put removes the old document first
			}
			vals[step] = k
			h.put(k, uint32(step), keyOf)
			want[k] = uint32(step)
		}
		for _, k := range keys {
			v, ok := h.get(k, keyOf)
			w, wok := want[k]
			if ok != wok || v != w {
				t.Fatalf("step %d: %s gives %d, %v; want %d, %v", step, k, v, ok, w, wok)
			}
		}
		if h.len() != len(want) {
			t.Fatalf("step %d: %d keys, want %d", step, h.len(), len(want))
		}
	}
	if len(h.over) == 0 {
		t.Fatal("no key went to over: the test covers less than it says")
	}
}

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
			x.mem.byID.sum, x.mem.terms.idx.sum, x.mem.nameIdx.sum = seven, seven, seven
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
	if len(colliding.Index.mem.byID.over) == 0 || len(colliding.Index.mem.terms.idx.over) == 0 {
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
	if n := m.nameIdx.len(); n != len(offers) {
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
		if _, ok := m.nameIdx.get(foldKey("Giro 3 "+strconv.Itoa(i)), m.keyOfName); ok {
			t.Fatalf("offering %d: an old name is still held", i)
		}
	}
}
