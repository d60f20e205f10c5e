package workers

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Query is one search of the public profiles. Empty fields do not filter.
type Query struct {
	Text         string // case-insensitive substring of alias and presentation
	Work         schema.WorkKind
	Municipality string
	Lang         string
	Certificate  schema.Certificate
	LiveIn       bool
	Night        bool
	Publisher    string
	Page         int // 1-based
	PerPage      int // default 20, at most 100
	AllFacets    bool
}

// Limits of a query, as the catalogue search's.
const (
	MaxTextLen = 200
	MaxPerPage = 100
	MaxPage    = 1000
)

var queryParams = map[string]bool{
	"q": true, "work": true, "municipality": true, "lang": true, "certificate": true,
	"live_in": true, "night": true, "publisher": true, "page": true, "per_page": true, "facets": true,
}

// ParseQuery reads a search from URL parameters with the catalogue
// search's strictness: an unknown or repeated parameter, or a value out
// of its domain, is a 400 naming it.
func ParseQuery(v url.Values) (Query, error) {
	bad := func(msg string) (Query, error) { return Query{}, problem.BadRequest("bad_query", msg, nil) }
	for k, vs := range v {
		if !queryParams[k] {
			return bad("unknown parameter " + strconv.Quote(clipParam(k)))
		}
		if len(vs) > 1 {
			return bad("parameter " + k + " given more than once")
		}
	}
	q := Query{Text: strings.TrimSpace(v.Get("q")), Work: schema.WorkKind(v.Get("work")), Municipality: v.Get("municipality"),
		Lang: v.Get("lang"), Certificate: schema.Certificate(v.Get("certificate")), Publisher: v.Get("publisher")}
	switch {
	case !utf8.ValidString(q.Text):
		return bad("q: is not valid UTF-8")
	case utf8.RuneCountInString(q.Text) > MaxTextLen:
		return bad("q: is longer than 200 characters")
	case q.Work != "" && !q.Work.Valid():
		return bad("work: must be one of elderly, night, domestic, babysitting, disability")
	case q.Municipality != "" && !schema.ValidMunicipality(q.Municipality):
		return bad("municipality: " + strconv.Quote(clipParam(q.Municipality)) + " is not the ISTAT code of a municipality")
	case q.Lang != "" && !langLike(q.Lang):
		return bad("lang: " + strconv.Quote(clipParam(q.Lang)) + " is not a language code")
	case q.Certificate != "" && !q.Certificate.Valid():
		return bad("certificate: is not a known certificate")
	case q.Publisher != "" && (len(q.Publisher) > 128 || strings.ContainsAny(q.Publisher, " /?")):
		return bad("publisher: is not a peer ID")
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"live_in", &q.LiveIn}, {"night", &q.Night}} {
		switch v.Get(b.name) {
		case "", "false", "0", "off":
		case "true", "1", "on":
			*b.dst = true
		default:
			return bad(b.name + " must be true or false")
		}
	}
	for _, n := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &q.Page, MaxPage}, {"per_page", &q.PerPage, MaxPerPage}} {
		s := v.Get(n.name)
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 1 || i > n.max {
			return bad(n.name + " must be a whole number from 1 to " + strconv.Itoa(n.max))
		}
		*n.dst = i
	}
	switch v.Get("facets") {
	case "":
	case "all":
		q.AllFacets = true
	default:
		return bad("facets must be all")
	}
	return q, nil
}

func langLike(s string) bool {
	if len(s) < 2 || len(s) > 12 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// FacetValue is one value of a facet with how many results have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Answer is one page of search results with the facets of all of them.
type Answer struct {
	Total   int                     `json:"total"`
	Page    int                     `json:"page"`
	PerPage int                     `json:"per_page"`
	Items   []Profile               `json:"items"`
	Facets  map[string][]FacetValue `json:"facets"`
}

// maxFacetValues bounds the municipality facet (others are short lists).
const maxFacetValues = 30

// Search answers q over the shown profiles, in alias order.
func (p *Profiles) Search(q Query) Answer {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = 20
	}
	s := p.current()
	now := p.clk.Now()
	text := strings.ToLower(q.Text)
	counts := map[string]map[string]int{"work": {}, "lang": {}, "certificate": {}, "municipality": {}, "live_in": {}, "night": {}}
	ans := Answer{Page: q.Page, PerPage: q.PerPage, Items: []Profile{}}
	from := (q.Page - 1) * q.PerPage
	for _, it := range s.all {
		if !p.shown(it, now) || !q.matches(it, text) {
			continue
		}
		if ans.Total >= from && len(ans.Items) < q.PerPage {
			ans.Items = append(ans.Items, p.named(it))
		}
		ans.Total++
		for _, w := range it.Work {
			counts["work"][string(w)]++
		}
		for _, l := range it.Languages {
			counts["lang"][l]++
		}
		for _, c := range it.Certificates {
			counts["certificate"][string(c)]++
		}
		for _, a := range it.Areas {
			counts["municipality"][a]++
		}
		if it.Availability.LiveIn {
			counts["live_in"]["true"]++
		}
		if it.Availability.Night {
			counts["night"]["true"]++
		}
	}
	ans.Facets = map[string][]FacetValue{}
	for name, c := range counts {
		var vals []FacetValue
		for v, n := range c {
			vals = append(vals, FacetValue{Value: v, Count: n})
		}
		sort.Slice(vals, func(i, j int) bool {
			return vals[i].Count > vals[j].Count || vals[i].Count == vals[j].Count && vals[i].Value < vals[j].Value
		})
		if !q.AllFacets && len(vals) > maxFacetValues {
			vals = vals[:maxFacetValues]
		}
		ans.Facets[name] = append([]FacetValue{}, vals...)
	}
	return ans
}

func (q *Query) matches(it *Profile, text string) bool {
	switch {
	case q.Work != "" && !slices.Contains(it.Work, q.Work),
		q.Municipality != "" && !slices.Contains(it.Areas, q.Municipality),
		q.Lang != "" && !slices.Contains(it.Languages, q.Lang),
		q.Certificate != "" && !slices.Contains(it.Certificates, q.Certificate),
		q.LiveIn && !it.Availability.LiveIn,
		q.Night && !it.Availability.Night,
		q.Publisher != "" && it.Publisher != q.Publisher:
		return false
	}
	return text == "" || strings.Contains(strings.ToLower(it.Alias), text) || strings.Contains(strings.ToLower(it.Presentation), text)
}
