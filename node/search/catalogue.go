package search

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Catalogue is the searchable federated catalogue: the index, and the
// listings its hits point to. The JSON API, HSDS and the web UI's pages
// all search through it.
type Catalogue struct {
	Index    *Index
	Listings *catalogue.Federated
	// NoResult, if set, hears of each search that found nothing (the
	// demand record counts them by category and municipality); it must
	// not block. It is given the query's codes, never its text.
	NoResult func(ctx context.Context, category, municipality string)
	// MaxSearches is how many searches run at once; 0: as many as the
	// cores (gate.go).
	MaxSearches int

	gateOnce sync.Once
	gate     chan struct{}
}

// Listing is one result of a catalogue search: the listing and its
// qualification, if valid now.
type Listing struct {
	catalogue.Listing
	Qualified *Qualification `json:"qualified"`
}

// LabelledValue is one value of a facet, with a label for people
// (category name, municipality name, coop name) and how many results have
// it.
type LabelledValue struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

// Answer is the answer of a catalogue search: a page of cards and the
// facets the funnel shows (all of them with Query.AllFacets).
type Answer struct {
	Total   int                        `json:"total"`
	Page    int                        `json:"page"`
	PerPage int                        `json:"per_page"`
	Results []Card                     `json:"results"`
	Facets  map[string][]LabelledValue `json:"facets"`
	// Similar are partial matches of a text search that found few
	// results (see Result.Similar).
	Similar []Card `json:"similar,omitempty"`
}

// Search runs q on the index and answers with the cards of the page.
func (c *Catalogue) Search(ctx context.Context, q Query) (Answer, error) {
	return c.answer(ctx, q, nil)
}

// answer is Search building the answer in b's arrays, or in new ones when
// b is nil (pageBuf).
func (c *Catalogue) answer(ctx context.Context, q Query, b *pageBuf) (Answer, error) {
	if b == nil {
		b = &pageBuf{}
	}
	res, err := c.search(ctx, q, b)
	if err != nil {
		return Answer{}, err
	}
	if res.Total == 0 && c.NoResult != nil && (q.Text != "" || q.Category != "" || q.Municipality != "") {
		c.NoResult(ctx, q.Category, q.Municipality)
	}
	if b.facets == nil {
		b.facets = make(map[string][]LabelledValue, len(res.Facets))
	}
	clear(b.facets)
	// The cards come from the index: a page of results reads nothing
	// from the store.
	out := Answer{Total: res.Total, Page: max(q.Page, 1), PerPage: q.PerPage, Results: res.cards, Similar: res.similar, Facets: b.facets}
	if out.PerPage == 0 {
		out.PerPage = 20
	}
	trimFacets(q, res.Facets)
	n := 0
	for _, vals := range res.Facets {
		n += len(vals)
	}
	b.labels = slices.Grow(b.labels[:0], n)
	all := b.labels // one array for every facet's values
	for name, vals := range res.Facets {
		start := len(all)
		for _, v := range vals {
			all = append(all, LabelledValue{Value: v.Value, Label: c.facetLabel(name, v.Value), Count: v.Count})
		}
		out.Facets[name] = all[start:len(all):len(all)]
	}
	return out, nil
}

// SearchListings runs q on the index and returns the total and the whole
// listings of the page, without facets (HSDS serves full services).
func (c *Catalogue) SearchListings(ctx context.Context, q Query) (total int, page []Listing, err error) {
	res, err := c.search(ctx, q, nil)
	if err != nil {
		return 0, nil, err
	}
	page = make([]Listing, 0, len(res.Hits))
	c.listings(ctx, res.Hits, func(l catalogue.Listing, q *Qualification) { page = append(page, Listing{Listing: l, Qualified: q}) })
	return res.Total, page, nil
}

func (c *Catalogue) search(ctx context.Context, q Query, b *pageBuf) (Result, error) {
	if c == nil || c.Index == nil {
		return Result{}, problem.New(http.StatusServiceUnavailable, "unavailable", "search is not available on this node")
	}
	leave, err := c.enter(ctx)
	if err != nil {
		return Result{}, err
	}
	res, err := c.Index.search(ctx, q, b)
	leave()
	if err != nil {
		var bq *BadQueryError
		if errors.As(err, &bq) {
			return Result{}, problem.BadRequest("bad_query", bq.Error(), nil)
		}
		return Result{}, err
	}
	return res, nil
}

// listings calls fn with the listing of each hit, skipping offerings
// withdrawn since the index saw them.
func (c *Catalogue) listings(ctx context.Context, hits []Hit, fn func(catalogue.Listing, *Qualification)) {
	for _, h := range hits {
		if l, err := c.Listings.Get(ctx, h.Publisher, h.Key); err == nil {
			fn(l, h.Qualified)
		}
	}
}

func (c *Catalogue) facetLabel(facet, value string) string {
	switch facet {
	case FacetCategory:
		if name, ok := schema.TermName(value); ok {
			return name
		}
	case FacetMunicipality:
		if m, ok := schema.LookupMunicipality(value); ok {
			return m.Name
		}
	case FacetPublisher:
		return c.Listings.CoopName(value)
	}
	return ""
}

// queryParams are the URL parameters of a catalogue search.
var queryParams = map[string]bool{
	"q": true, "category": true, "municipality": true, "price": true, "mode": true,
	"qualified": true, "lang": true, "publisher": true, "page": true, "per_page": true, "facets": true,
}

// ParseQuery reads a catalogue search from URL parameters. Unknown
// parameters, repeated ones and bad values are a 400 naming the parameter.
// qualifiedDefault applies when the qualified parameter is absent.
func ParseQuery(v url.Values, qualifiedDefault bool) (Query, error) {
	for k, vs := range v {
		if !queryParams[k] {
			return Query{}, problem.BadRequest("bad_query", "unknown parameter "+strconv.Quote(clipParam(k)), nil)
		}
		if len(vs) > 1 {
			return Query{}, problem.BadRequest("bad_query", "parameter "+k+" given more than once", nil)
		}
	}
	q := Query{
		Text: v.Get("q"), Category: v.Get("category"), Municipality: v.Get("municipality"),
		Price: v.Get("price"), Mode: v.Get("mode"), Lang: v.Get("lang"), Publisher: v.Get("publisher"),
		QualifiedOnly: qualifiedDefault,
	}
	num := func(name string) (int, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, problem.BadRequest("bad_query", name+" must be a positive whole number", err)
		}
		return n, nil
	}
	var err error
	if q.Page, err = num("page"); err != nil {
		return q, err
	}
	if q.PerPage, err = num("per_page"); err != nil {
		return q, err
	}
	switch v.Get("facets") {
	case "":
	case "all":
		q.AllFacets = true
	default:
		return q, problem.BadRequest("bad_query", "facets must be all", nil)
	}
	switch v.Get("qualified") {
	case "":
	case "true", "1", "on":
		q.QualifiedOnly = true
	case "false", "0", "off":
		q.QualifiedOnly = false
	default:
		return q, problem.BadRequest("bad_query", "qualified must be true or false", nil)
	}
	if err := q.Validate(); err != nil {
		var bq *BadQueryError
		if errors.As(err, &bq) {
			return q, problem.BadRequest("bad_query", bq.Error(), nil)
		}
		return q, err
	}
	return q, nil
}

func clipParam(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
