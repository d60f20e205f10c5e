package search

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/difronte/difronte/schema"
)

// Limits of a query: they keep every search cheap whatever a client sends.
const (
	MaxTextLen  = 200 // characters of free text
	MaxPerPage  = 100
	MaxPage     = 1000
	maxWords    = 12 // words of free text actually searched
	fuzzyMinLen = 4  // shorter words are matched exactly: "via" is not "vita"
)

// Query is one search of the catalogue. Empty fields do not filter.
type Query struct {
	Text          string
	Category      string // taxonomy code; a top category includes its subcategories
	Municipality  string // ISTAT code
	Price         string // "free" | "paid"
	Mode          string // "individual" | "shared"
	Lang          string // BCP 47 tag
	Publisher     string // peer ID
	QualifiedOnly bool
	Page          int // 1-based; 0 means 1
	PerPage       int // 0 means 20
}

// BadQueryError says which parameter of a query is wrong and why, in words
// a client can act on.
type BadQueryError struct {
	Field, Msg string
}

func (e *BadQueryError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks every parameter and returns the first problem.
func (q *Query) Validate() error {
	bad := func(f, format string, a ...any) error {
		return &BadQueryError{Field: f, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case !utf8.ValidString(q.Text):
		return bad("q", "is not valid UTF-8")
	case utf8.RuneCountInString(q.Text) > MaxTextLen:
		return bad("q", "is longer than %d characters", MaxTextLen)
	case q.Category != "" && !schema.KnownTerm(q.Category):
		return bad("category", "%q is not a category of the taxonomy", clip(q.Category))
	case q.Municipality != "" && !schema.ValidMunicipality(q.Municipality):
		return bad("municipality", "%q is not the ISTAT code of a municipality", clip(q.Municipality))
	case q.Price != "" && q.Price != string(schema.CostFree) && q.Price != string(schema.CostPaid):
		return bad("price", "must be free or paid")
	case q.Mode != "" && q.Mode != string(schema.DeliveryIndividual) && q.Mode != string(schema.DeliveryShared):
		return bad("mode", "must be individual or shared")
	case q.Lang != "" && !langLike(q.Lang):
		return bad("lang", "%q is not a language code", clip(q.Lang))
	case q.Publisher != "" && !peerIDLike(q.Publisher):
		return bad("publisher", "is not a peer ID")
	case q.Page < 0 || q.Page > MaxPage:
		return bad("page", "must be between 1 and %d", MaxPage)
	case q.PerPage < 0 || q.PerPage > MaxPerPage:
		return bad("per_page", "must be between 1 and %d", MaxPerPage)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func langLike(s string) bool {
	if len(s) < 2 || len(s) > 35 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func peerIDLike(s string) bool {
	if len(s) < 10 || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= '1' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') || r == 'I' || r == 'O' || r == 'l' {
			return false
		}
	}
	return true
}

// Hit is one result: the offering's address in the replica, and its
// qualification if it holds a valid one.
type Hit struct {
	Publisher string         `json:"publisher"`
	Key       string         `json:"key"`
	Score     float64        `json:"score"`
	Qualified *Qualification `json:"qualified,omitempty"`
}

// FacetValue is one value of a facet and how many results have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facet names of a Result; they are the query parameters they filter.
const (
	FacetCategory     = "category"
	FacetMunicipality = "municipality"
	FacetPrice        = "price"
	FacetMode         = "mode"
	FacetLang         = "lang"
	FacetPublisher    = "publisher"
	FacetQualified    = "qualified"
)

// Result is a page of hits with the total and the facet counts of every
// matching offering.
type Result struct {
	Total  int                     `json:"total"`
	Hits   []Hit                   `json:"hits"`
	Facets map[string][]FacetValue `json:"facets"`
	Took   time.Duration           `json:"-"`
}

// facetFields maps facet names to index fields and how many values to
// return (every category and cost type; the commonest places, languages
// and providers).
var facetFields = [...]struct {
	name, field string
	size        int
}{
	{FacetCategory, fCategory, 200},
	{FacetMunicipality, fPlace, 30},
	{FacetPrice, fCost, 2},
	{FacetMode, fDelivery, 2},
	{FacetLang, fLang, 30},
	{FacetPublisher, fPublisher, 30},
}

// Search runs a query. It validates q first.
func (x *Index) Search(ctx context.Context, q Query) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	page, per := max(q.Page, 1), q.PerPage
	if per == 0 {
		per = 20
	}
	now := float64(x.cfg.Now().Unix())
	req := bleve.NewSearchRequestOptions(x.buildQuery(q, now), per, (page-1)*per, false)
	for _, f := range facetFields {
		req.AddFacet(f.name, bleve.NewFacetRequest(f.field, f.size))
	}
	qf := bleve.NewFacetRequest(fQualUntil, 1)
	qf.AddNumericRange("true", &now, nil)
	req.AddFacet(FacetQualified, qf)
	if strings.TrimSpace(q.Text) == "" {
		req.SortBy([]string{fNameKey, "_id"})
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	out := Result{Total: int(res.Total), Hits: make([]Hit, 0, len(res.Hits)), Facets: map[string][]FacetValue{}, Took: res.Took}
	for _, h := range res.Hits {
		pub, key, ok := strings.Cut(h.ID, "/")
		if !ok {
			continue
		}
		hit := Hit{Publisher: pub, Key: key, Score: h.Score}
		if ql, ok := x.QualificationOf(pub, key); ok {
			hit.Qualified = &ql
		}
		out.Hits = append(out.Hits, hit)
	}
	for name, fr := range res.Facets {
		vals := []FacetValue{}
		if name == FacetQualified {
			n := 0
			for _, r := range fr.NumericRanges {
				n += r.Count
			}
			vals = append(vals, FacetValue{"true", n}, FacetValue{"false", out.Total - n})
		} else {
			for _, t := range fr.Terms.Terms() {
				vals = append(vals, FacetValue{Value: t.Term, Count: t.Count})
			}
		}
		out.Facets[name] = vals
	}
	return out, nil
}

// buildQuery turns q into a bleve query without any query-string parsing:
// free text only reaches match queries, filters are exact term queries.
func (x *Index) buildQuery(q Query, now float64) query.Query {
	b := bleve.NewBooleanQuery()
	text := words(q.Text)
	tokens := x.analyze(text)
	if len(tokens) == 0 {
		// No text, or only stop words ("di", "la"): nothing to match on.
		b.AddMust(bleve.NewMatchAllQuery())
	} else {
		// Every word must match somewhere, one wrong letter allowed in
		// longer words; exact matches, and exact name matches most, rank
		// first.
		must := bleve.NewConjunctionQuery()
		for _, t := range tokens {
			if utf8.RuneCountInString(t) >= fuzzyMinLen {
				fq := bleve.NewFuzzyQuery(t)
				fq.SetField(fAll)
				fq.SetFuzziness(1)
				must.AddQuery(fq)
			} else {
				tq := bleve.NewTermQuery(t)
				tq.SetField(fAll)
				must.AddQuery(tq)
			}
		}
		b.AddMust(must)
		exactAll := bleve.NewMatchQuery(text)
		exactAll.SetField(fAll)
		exactAll.SetOperator(query.MatchQueryOperatorAnd)
		exactAll.SetBoost(2)
		name := bleve.NewMatchQuery(text)
		name.SetField(fName)
		name.SetBoost(3)
		phrase := bleve.NewMatchPhraseQuery(text)
		phrase.SetField(fName)
		phrase.SetBoost(5)
		exact := bleve.NewTermQuery(foldKey(text))
		exact.SetField(fNameKey)
		exact.SetBoost(20)
		b.AddShould(exactAll, name, phrase, exact)
	}
	// Filters do not score; bleve keeps one filter query, so they go
	// into one conjunction.
	var filters []query.Query
	term := func(field, v string) {
		if v == "" {
			return
		}
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		filters = append(filters, t)
	}
	term(fCategory, q.Category)
	term(fPlace, q.Municipality)
	term(fCost, q.Price)
	term(fDelivery, q.Mode)
	term(fLang, q.Lang)
	term(fPublisher, q.Publisher)
	if q.QualifiedOnly {
		incl := true
		r := bleve.NewNumericRangeInclusiveQuery(&now, nil, &incl, nil)
		r.SetField(fQualUntil)
		filters = append(filters, r)
	}
	switch len(filters) {
	case 0:
	case 1:
		b.AddFilter(filters[0])
	default:
		b.AddFilter(bleve.NewConjunctionQuery(filters...))
	}
	return b
}

// words keeps the first maxWords words of s, collapsed to single spaces.
func words(s string) string {
	f := strings.Fields(s)
	if len(f) > maxWords {
		f = f[:maxWords]
	}
	return strings.Join(f, " ")
}

// analyze runs the index's text analyzer over s: the terms a match query
// would look up, at most maxWords distinct ones.
func (x *Index) analyze(s string) []string {
	if s == "" {
		return nil
	}
	a := x.idx.Mapping().AnalyzerNamed(analyzerName)
	if a == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range a.Analyze([]byte(s)) {
		w := string(t.Term)
		if !seen[w] && len(out) < maxWords {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// LookupHSDS finds the offering whose HSDS service id is id.
func (x *Index) LookupHSDS(ctx context.Context, id string) (publisher, key string, ok bool) {
	if !schema.IsUUID(id) {
		return "", "", false
	}
	t := bleve.NewTermQuery(id)
	t.SetField(fHSDS)
	res, err := x.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(t, 1, 0, false))
	if err != nil || len(res.Hits) == 0 {
		return "", "", false
	}
	publisher, key, ok = strings.Cut(res.Hits[0].ID, "/")
	return publisher, key, ok
}
