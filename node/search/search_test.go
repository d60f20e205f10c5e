package search

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(BleveWorker))
}

func offering(id, name, desc, category string) schema.Offering {
	return schema.Offering{
		ID: id, Name: name, Description: desc, Category: category,
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual,
		Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Phone: "+39 02 1234567"}, Status: schema.StatusActive,
	}
}

func search(t *testing.T, idx *Index, q Query) Result {
	t.Helper()
	r, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func hitKeys(r Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Key)
	}
	return out
}

func TestTextMatching(t *testing.T) {
	f := newFixture(t, newReplica(t), 2)
	idx := f.open(t, "")
	defer idx.Close()
	id := func(n int) string {
		return "00000000-0000-4000-8000-" + strings.Repeat("0", 10) + string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	docs := []schema.Offering{
		offering(id(1), "Assistenza domiciliare agli anziani", "Aiuto quotidiano a casa per persone anziane non autosufficienti.", "anziani.assistenza-domiciliare"),
		offering(id(2), "Attività per la città", "Laboratori nel centro della città, con merenda.", "bambini.doposcuola"),
		offering(id(3), "Pasti caldi a domicilio", "Consegna a casa di un pasto caldo ogni giorno.", "pasti.consegna"),
		offering(id(4), "Consegna della spesa", "Pasti caldi a domicilio e spesa, consegnati dall'operatrice.", "casa.spesa-domicilio"),
		offering(id(5), "Dog sitter", "Passeggiate con il cane.", "animali.dog-sitter"),
	}
	for i, o := range docs {
		f.publish(t, i%2, o)
	}
	f.sync(t)
	cases := []struct {
		name, q string
		want    []string // expected keys; first must be first when ordered
		ordered bool
	}{
		{"stemming plural to singular", "anziano", []string{id(1)}, false},
		{"stemming singular to plural", "anziani", []string{id(1)}, false},
		{"elision", "dell'anziano", []string{id(1)}, false},
		{"accent typed without", "citta", []string{id(2)}, false},
		{"accent typed", "attività", []string{id(2)}, false},
		{"accent on the wrong letter", "cíttà", []string{id(2)}, false},
		{"typo", "asistenza", []string{id(1)}, false},
		// "domiciliare" and "domicilio" share their root, so a typo of
		// one finds both.
		{"typo inserted", "domicillare", []string{id(1), id(3), id(4)}, false},
		{"verb meets noun", "assistere", []string{id(1)}, false},
		{"noun meets verb", "consegnare", []string{id(3), id(4)}, false},
		{"case", "DOG SITTER", []string{id(5)}, false},
		{"exact name first", "pasti caldi a domicilio", []string{id(3), id(4)}, true},
		{"taxonomy keywords", "badante", nil, false},
		{"place name", "milano", []string{id(1), id(2), id(3), id(4), id(5)}, false},
		{"all words must match", "anziani cane", nil, false},
		{"stop words only", "di la", []string{id(1), id(2), id(3), id(4), id(5)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := hitKeys(search(t, idx, Query{Text: c.q}))
			if c.ordered {
				if !slices.Equal(got, c.want) {
					t.Fatalf("q=%q: got %v, want in order %v", c.q, got, c.want)
				}
				return
			}
			if c.want == nil {
				if c.name == "taxonomy keywords" {
					return // checked below against the taxonomy itself
				}
				if len(got) != 0 {
					t.Fatalf("q=%q: got %v, want nothing", c.q, got)
				}
				return
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Fatalf("q=%q: got %v, want %v", c.q, got, want)
			}
		})
	}
	// A keyword of the offering's category finds it though the offering
	// never uses the word.
	term, _ := schema.Term("anziani")
	if len(term.Keywords) > 0 {
		if got := hitKeys(search(t, idx, Query{Text: term.Keywords[0]})); !slices.Contains(got, id(1)) {
			t.Fatalf("keyword %q of category anziani: got %v", term.Keywords[0], got)
		}
	}
}

// TestFacetsMatchBruteForce compares totals and facet counts with a count
// over the generated offerings themselves, for combined filters.
func TestFacetsMatchBruteForce(t *testing.T) {
	f := newFixture(t, newReplica(t), 7)
	idx := f.open(t, "")
	defer idx.Close()
	docs := genOfferings(1, 1500)
	owner := map[string]int{}
	for i, o := range docs {
		f.publish(t, i%7, o)
		owner[o.ID] = i % 7
	}
	f.sync(t)
	if n, _ := idx.Count(); n != uint64(len(docs)) {
		t.Fatalf("index holds %d, want %d", n, len(docs))
	}
	first := docs[0]
	top, _ := schema.Term(first.Category)
	queries := []Query{
		{},
		{Category: top.Parent},
		{Category: first.Category},
		{Category: top.Parent, Municipality: first.Areas[0]},
		{Category: top.Parent, Price: "free", Mode: "shared"},
		{Lang: "en", Price: "paid"},
		{Publisher: f.ids[3], Category: top.Parent},
		{Text: "anziani", Municipality: first.Areas[0]},
		{Text: "anziani"},
	}
	for _, q := range queries {
		q.PerPage = 100
		res := search(t, idx, q)
		want := map[string]map[string]int{}
		total := 0
		for _, o := range docs {
			if !bruteMatch(q, o, f.ids[owner[o.ID]]) {
				continue
			}
			total++
			for facet, vals := range facetValues(o, f.ids[owner[o.ID]]) {
				if want[facet] == nil {
					want[facet] = map[string]int{}
				}
				for _, v := range vals {
					want[facet][v]++
				}
			}
		}
		if res.Total != total {
			t.Fatalf("%+v: total %d, brute force %d", q, res.Total, total)
		}
		for _, facet := range []string{FacetCategory, FacetPrice, FacetMode, FacetLang, FacetPublisher, FacetMunicipality} {
			for _, fv := range res.Facets[facet] {
				if want[facet][fv.Value] != fv.Count {
					t.Fatalf("%+v: facet %s=%s counts %d, brute force %d", q, facet, fv.Value, fv.Count, want[facet][fv.Value])
				}
			}
			if facet != FacetMunicipality && len(res.Facets[facet]) != len(want[facet]) {
				t.Fatalf("%+v: facet %s has %d values, brute force %d", q, facet, len(res.Facets[facet]), len(want[facet]))
			}
		}
		if q.Text == "" && total > 0 && (res.Facets[FacetQualified][0] != FacetValue{"true", 0}) {
			t.Fatalf("%+v: qualified facet %v before any qualification", q, res.Facets[FacetQualified])
		}
	}
}

// bruteMatch applies q's filters to o directly (text: a plain substring of
// the stem, enough for the word used above).
func bruteMatch(q Query, o schema.Offering, pub string) bool {
	fv := facetValues(o, pub)
	has := func(facet, v string) bool { return v == "" || slices.Contains(fv[facet], v) }
	if q.Text != "" {
		all := strings.ToLower(o.Name + " " + o.Description + " " + o.Eligibility.Description)
		for _, c := range fv[FacetCategory] {
			t, _ := schema.Term(c)
			all += " " + strings.ToLower(t.NameIT+" "+strings.Join(t.Keywords, " "))
		}
		if !strings.Contains(all, "anzian") {
			return false
		}
	}
	return has(FacetCategory, q.Category) && has(FacetMunicipality, q.Municipality) && has(FacetPrice, q.Price) &&
		has(FacetMode, q.Mode) && has(FacetLang, q.Lang) && has(FacetPublisher, q.Publisher)
}

func facetValues(o schema.Offering, pub string) map[string][]string {
	var cats []string
	for _, c := range append([]string{o.Category}, o.Categories...) {
		for c != "" && !slices.Contains(cats, c) {
			cats = append(cats, c)
			t, _ := schema.Term(c)
			c = t.Parent
		}
	}
	return map[string][]string{
		FacetCategory: cats, FacetMunicipality: o.Areas, FacetPrice: {string(o.Cost.Type)},
		FacetMode: {string(o.Delivery)}, FacetLang: o.Languages, FacetPublisher: {pub},
	}
}

func TestFollowsReplica(t *testing.T) {
	f := newFixture(t, newReplica(t), 2)
	idx := f.open(t, "")
	defer idx.Close()
	docs := genOfferings(2, 30)
	for _, o := range docs {
		f.publish(t, 0, o)
	}
	f.sync(t)
	if r := search(t, idx, Query{Publisher: f.ids[0]}); r.Total != 30 {
		t.Fatalf("total %d, want 30", r.Total)
	}
	// Withdrawn: gone.
	f.withdraw(t, 0, docs[0].ID)
	f.sync(t)
	r := search(t, idx, Query{Publisher: f.ids[0], PerPage: 100})
	if r.Total != 29 || slices.Contains(hitKeys(r), docs[0].ID) {
		t.Fatalf("withdrawn offering still found: total %d", r.Total)
	}
	// Changed: the new name is found, the old one is not.
	o := docs[1]
	o.Name = "Zanzariere e tapparelle"
	f.publish(t, 0, o)
	f.sync(t)
	if got := hitKeys(search(t, idx, Query{Text: "zanzariere"})); !slices.Equal(got, []string{o.ID}) {
		t.Fatalf("renamed offering: got %v", got)
	}
	// A coop name is searchable and follows a rename.
	f.coop(t, 0, "Cooperativa Girasole")
	f.sync(t)
	if r := search(t, idx, Query{Text: "girasole"}); r.Total != 29 || r.cards[0].CoopName != "Cooperativa Girasole" {
		t.Fatalf("coop name: %d hits, want 29, named on their cards (%q)", r.Total, r.cards[0].CoopName)
	}
	f.coop(t, 0, "Cooperativa Tulipano")
	f.sync(t)
	if r := search(t, idx, Query{Text: "girasole"}); r.Total != 0 {
		t.Fatalf("old coop name still found: %d hits", r.Total)
	}
	if r := search(t, idx, Query{Text: "tulipano"}); r.Total != 29 || r.cards[0].CoopName != "Cooperativa Tulipano" {
		t.Fatalf("renamed coop: %d hits, cards name %q", r.Total, r.cards[0].CoopName)
	}
}

func TestQualified(t *testing.T) {
	f := newFixture(t, newReplica(t), 2)
	idx := f.open(t, "")
	defer idx.Close()
	docs := genOfferings(3, 20)
	for i, o := range docs {
		f.publish(t, i%2, o)
	}
	f.sync(t)
	if idx.AnyQualified() {
		t.Fatal("qualified before any qualification")
	}
	until := f.clk.Now().Add(24 * time.Hour)
	idx.SetQualified(f.ids[0], func(o schema.Offering) (string, time.Time, bool) {
		return "Comune di Milano", until, true
	})
	f.sync(t)
	r := search(t, idx, Query{QualifiedOnly: true, PerPage: 100})
	if r.Total != 10 || !idx.AnyQualified() {
		t.Fatalf("qualified: %d, want 10", r.Total)
	}
	for _, h := range r.Hits {
		if h.Publisher != f.ids[0] || h.Qualified == nil || h.Qualified.Authority != "Comune di Milano" {
			t.Fatalf("hit %+v", h)
		}
	}
	if got := search(t, idx, Query{}).Facets[FacetQualified]; !slices.Equal(got, []FacetValue{{"true", 10}, {"false", 10}}) {
		t.Fatalf("qualified facet %v", got)
	}
	// A new offering of a qualified publisher is qualified too.
	extra := genOfferings(4, 1)[0]
	f.publish(t, 0, extra)
	f.sync(t)
	if r := search(t, idx, Query{QualifiedOnly: true}); r.Total != 11 {
		t.Fatalf("qualified after a new offering: %d", r.Total)
	}
	// Expiry: past the end of validity, nothing is qualified.
	f.clk.Jump(until.Add(time.Second))
	if r := search(t, idx, Query{QualifiedOnly: true}); r.Total != 0 || idx.AnyQualified() {
		t.Fatalf("expired qualification still counts: %d", r.Total)
	}
	f.clk.Jump(until.Add(-time.Hour))
	// Revocation.
	idx.SetQualified(f.ids[0], nil)
	f.sync(t)
	if r := search(t, idx, Query{QualifiedOnly: true}); r.Total != 0 {
		t.Fatalf("revoked qualification still counts: %d", r.Total)
	}
}

func TestRestartIndexesOnlyChanges(t *testing.T) {
	dir := t.TempDir() + "/search"
	rep := newReplica(t)
	f := newFixture(t, rep, 3)
	idx := f.open(t, dir)
	docs := genOfferings(5, 60)
	for i, o := range docs {
		f.publish(t, i%3, o)
	}
	f.sync(t)
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing changed: nothing to do.
	idx = f.open(t, dir)
	idx.mu.Lock()
	queued := idx.queued
	idx.mu.Unlock()
	if queued != 0 {
		t.Fatalf("restart without changes queued %d", queued)
	}
	if r := search(t, idx, Query{}); r.Total != 60 {
		t.Fatalf("after restart: %d", r.Total)
	}
	idx.Close()
	// Changes while the index was closed: one publisher withdraws.
	f.withdraw(t, 1, docs[1].ID)
	idx = f.open(t, dir)
	defer idx.Close()
	idx.mu.Lock()
	queued, pubs := idx.queued, len(idx.pending)
	idx.mu.Unlock()
	if queued != 1 || pubs > 1 {
		t.Fatalf("restart after one change queued %d in %d publishers", queued, pubs)
	}
	f.sync(t)
	if r := search(t, idx, Query{}); r.Total != 59 {
		t.Fatalf("after restart with a withdrawal: %d", r.Total)
	}
}

func TestRebuild(t *testing.T) {
	dir := t.TempDir() + "/search"
	f := newFixture(t, newReplica(t), 2)
	for i, o := range genOfferings(6, 250) {
		f.publish(t, i%2, o)
	}
	var calls, last int
	err := Rebuild(context.Background(), Config{Dir: dir, Replica: f.rep, BatchSize: 100}, func(done, total int) {
		calls++
		last = done
	})
	if err != nil || calls < 3 || last != 250 {
		t.Fatalf("rebuild: %v, %d progress calls, last %d", err, calls, last)
	}
	idx := f.open(t, dir)
	defer idx.Close()
	if r := search(t, idx, Query{}); r.Total != 250 {
		t.Fatalf("after rebuild: %d", r.Total)
	}
}

func TestBadQueries(t *testing.T) {
	f := newFixture(t, newReplica(t), 1)
	idx := f.open(t, "")
	defer idx.Close()
	for _, o := range genOfferings(7, 10) {
		f.publish(t, 0, o)
	}
	f.sync(t)
	bad := []struct {
		q     Query
		field string
	}{
		{Query{Text: strings.Repeat("a", MaxTextLen+1)}, "q"},
		{Query{Text: "\xff\xfe"}, "q"},
		{Query{Category: "anziani.nope"}, "category"},
		{Query{Municipality: "999999"}, "municipality"},
		{Query{Municipality: "Milano"}, "municipality"},
		{Query{Price: "cheap"}, "price"},
		{Query{Mode: "group"}, "mode"},
		{Query{Lang: "it;drop"}, "lang"},
		{Query{Publisher: "../../etc"}, "publisher"},
		{Query{Page: MaxPage + 1}, "page"},
		{Query{Page: -1}, "page"},
		{Query{PerPage: 1000}, "per_page"},
	}
	for _, c := range bad {
		_, err := idx.Search(context.Background(), c.q)
		var bq *BadQueryError
		if !errors.As(err, &bq) || bq.Field != c.field {
			t.Errorf("%+v: got %v, want a bad %s", c.q, err, c.field)
		}
	}
	// Query syntax is text, not syntax: no error, no match-all.
	for _, s := range []string{`name:* OR *`, `+anziani -anziani`, `"unterminated`, `/.*/`, `anz~5`, `_id:x`, `\u0000`, strings.Repeat("ab ", 66)} {
		start := time.Now()
		r, err := idx.Search(context.Background(), Query{Text: s})
		if err != nil || time.Since(start) > time.Second {
			t.Errorf("q=%q: %v after %v", s, err, time.Since(start))
		}
		if r.Total == 10 && s != `/.*/` { // punctuation only is no text at all
			t.Errorf("q=%q matches everything", s)
		}
	}
	// A page past the results is empty, not an error.
	if r := search(t, idx, Query{Page: 50}); len(r.Hits) != 0 || r.Total != 10 {
		t.Fatalf("page past the end: %d hits, total %d", len(r.Hits), r.Total)
	}
}

// TestQualificationsSurviveRestartUntilCleared: the snapshot keeps the
// qualified marks; QualifiedPublishers lets the node clear the ones revoked
// while it was down.
func TestQualificationsSurviveRestartUntilCleared(t *testing.T) {
	dir := t.TempDir() + "/search"
	f := newFixture(t, newReplica(t), 2)
	idx := f.open(t, dir)
	for i, o := range genOfferings(8, 10) {
		f.publish(t, i%2, o)
	}
	idx.SetQualified(f.ids[1], func(o schema.Offering) (string, time.Time, bool) { return "ATS", time.Time{}, true })
	f.sync(t)
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	idx = f.open(t, dir)
	defer idx.Close()
	if got := idx.QualifiedPublishers(); !slices.Equal(got, []string{f.ids[1]}) {
		t.Fatalf("qualified publishers after restart %v", got)
	}
	if r := search(t, idx, Query{QualifiedOnly: true, Text: "servizio aiuto"}); r.Total > 5 {
		t.Fatalf("qualified %d", r.Total)
	}
	if r := search(t, idx, Query{QualifiedOnly: true}); r.Total != 5 {
		t.Fatalf("qualified after restart: %d, want 5", r.Total)
	}
	idx.SetQualified(f.ids[1], nil)
	f.sync(t)
	if r := search(t, idx, Query{QualifiedOnly: true}); r.Total != 0 || len(idx.QualifiedPublishers()) != 0 {
		t.Fatalf("cleared qualification still counts: %d", r.Total)
	}
}
