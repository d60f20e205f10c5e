package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// searchParams are the query parameters of the catalogue search.
var searchParams = map[string]bool{
	"q": true, "category": true, "municipality": true, "price": true, "mode": true,
	"qualified": true, "lang": true, "publisher": true, "page": true, "per_page": true,
}

// ParseSearchQuery reads a catalogue search from URL parameters. Unknown
// parameters, repeated ones and bad values are a 400 naming the parameter.
// qualifiedDefault applies when the qualified parameter is absent.
func ParseSearchQuery(v url.Values, qualifiedDefault bool) (search.Query, error) {
	for k, vs := range v {
		if !searchParams[k] {
			return search.Query{}, problem.BadRequest("bad_query", "unknown parameter "+strconv.Quote(clipParam(k)), nil)
		}
		if len(vs) > 1 {
			return search.Query{}, problem.BadRequest("bad_query", "parameter "+k+" given more than once", nil)
		}
	}
	q := search.Query{
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
		var bq *search.BadQueryError
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

// SearchHit is one result of a catalogue search: the listing and its
// qualification, if valid now.
type SearchHit struct {
	catalog.Listing
	Qualified *search.Qualification `json:"qualified"`
}

// FacetValue is one value of a facet, with a label for people (category
// name, municipality name, coop name) and how many results have it.
type FacetValue struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

// SearchAnswer is the answer of a catalogue search.
type SearchAnswer struct {
	Total   int                     `json:"total"`
	Page    int                     `json:"page"`
	PerPage int                     `json:"per_page"`
	Results []SearchHit             `json:"results"`
	Facets  map[string][]FacetValue `json:"facets"`
}

// SearchCatalogue runs q on the federation's index and loads the listings
// of the page.
func SearchCatalogue(ctx context.Context, f Federation, q search.Query) (SearchAnswer, error) {
	idx := f.Search()
	if idx == nil {
		return SearchAnswer{}, problem.New(http.StatusServiceUnavailable, "unavailable", "search is not available on this node")
	}
	res, err := idx.Search(ctx, q)
	if err != nil {
		var bq *search.BadQueryError
		if errors.As(err, &bq) {
			return SearchAnswer{}, problem.BadRequest("bad_query", bq.Error(), nil)
		}
		return SearchAnswer{}, err
	}
	out := SearchAnswer{Total: res.Total, Page: max(q.Page, 1), PerPage: q.PerPage, Results: []SearchHit{}, Facets: map[string][]FacetValue{}}
	if out.PerPage == 0 {
		out.PerPage = 20
	}
	cat := f.Catalogue()
	for _, h := range res.Hits {
		l, err := cat.Get(ctx, h.Publisher, h.Key)
		if err != nil {
			continue // withdrawn since the index saw it
		}
		out.Results = append(out.Results, SearchHit{Listing: l, Qualified: h.Qualified})
	}
	coops := cat.Coops()
	for name, vals := range res.Facets {
		fv := make([]FacetValue, 0, len(vals))
		for _, v := range vals {
			fv = append(fv, FacetValue{Value: v.Value, Label: facetLabel(name, v.Value, coops), Count: v.Count})
		}
		out.Facets[name] = fv
	}
	return out, nil
}

func facetLabel(facet, value string, coops map[string]string) string {
	switch facet {
	case search.FacetCategory:
		if t, ok := schema.Term(value); ok {
			return t.NameIT
		}
	case search.FacetMunicipality:
		if m, ok := schema.LookupMunicipality(value); ok {
			return m.Name
		}
	case search.FacetPublisher:
		return coops[value]
	}
	return ""
}

// catalogueSearch searches the node's replica of the federated catalogue.
// It is public: citizens search without an account.
func (s *Server) catalogueSearch(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > 4096 {
		writeError(w, r, problem.BadRequest("bad_query", "query string longer than 4096 bytes", nil), s.d.Logger)
		return
	}
	q, err := ParseSearchQuery(r.URL.Query(), false)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	q.Text = strings.TrimSpace(q.Text)
	ans, err := SearchCatalogue(r.Context(), s.d.Federation, q)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}
