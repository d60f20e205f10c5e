package webui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// catalogueRoutes are the public catalogue pages: the funnel and the
// detail of one offering. No account needed; forms use GET, so the pages
// work without JavaScript and every step has its own address.
func (u *ui) catalogueRoutes() {
	u.s.Router.HandleFunc("/catalogo", u.cataloguePage).Methods(http.MethodGet)
	u.s.Router.HandleFunc("/catalogo/{publisher}/{id}", u.catalogueDetail).Methods(http.MethodGet)
}

// funnelStep is one button of the funnel: a category with its icon and
// how many results it leaves.
type funnelStep struct {
	Code, Icon, Href string
	Count            int
}

// facetOption is one value of a filter with its count.
type facetOption struct {
	Value, Label string
	Href         string // the same search with this value chosen
	Count        int
	Selected     bool
}

type cataloguePageData struct {
	Query       search.Query
	Top         *schema.TaxonomyTerm // the chosen top category
	Steps       []funnelStep         // top categories, or subcategories of Top
	Answer      search.Answer
	Filters     map[string][]facetOption
	FilterNames []string
	Started     bool // a category, text or filter chosen: show results
	Prev, Next  string
	Error       string
	MuniText    string // the municipality box as typed, or the chosen code's name
	Base        string // scheme and host, so a printed list shows whole addresses
	Active      int    // filters chosen, said on the closed "Filtra" disclosure
}

// resultCard is what the result card template gets.
type resultCard struct {
	P    *page
	Base string
	C    search.Card
}

// CardOf is a result card with the page and the site's address.
func (p *page) CardOf(base string, c search.Card) resultCard {
	return resultCard{P: p, Base: base, C: c}
}

// QualifiedBy names the authorities this node trusts, for the "qualified
// only" filter: the badge of a result names the one that qualified it.
// "" when the node trusts none (the filter then says it in general).
func (p *page) QualifiedBy() string {
	svc := p.u.d.Qualify.Service
	if svc == nil {
		return ""
	}
	ts := svc.Trust()
	if ts == nil {
		return ""
	}
	var names []string
	for _, k := range ts.Keys() {
		if k.Name != "" && k.Retired == 0 && !slices.Contains(names, k.Name) {
			names = append(names, k.Name)
		}
	}
	return strings.Join(names, ", ")
}

func (u *ui) cataloguePage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "catalogue.title")
	d := cataloguePageData{Filters: map[string][]facetOption{}, FilterNames: filterNames()}
	p.Data = &d
	f := u.d.Catalogue
	if f == nil || f.Index == nil {
		d.Error = "catalogue.unavailable"
		u.render(w, r, p, "catalogue", http.StatusServiceUnavailable)
		return
	}
	v := catalogueParams(r.URL.Query(), &d)
	d.Base = "http://" + r.Host
	if r.TLS != nil {
		d.Base = "https://" + r.Host
	}
	p.Form = v
	q, err := search.ParseQuery(v, f.Index.AnyQualified())
	status := http.StatusOK
	if err != nil {
		var pe *problem.Error
		if !errors.As(err, &pe) {
			u.log.Error("catalogue query", "err", err)
		}
		d.Error = "catalogue.bad_query"
		q = search.Query{}
		status = http.StatusBadRequest
	}
	q.PerPage = 10
	d.Query = q
	for _, f := range []string{q.Municipality, q.Price, q.Mode, q.Lang, q.Publisher} {
		if f != "" {
			d.Active++
		}
	}
	d.Started = q.Category != "" || q.Text != "" || q.Municipality != "" || q.Price != "" || q.Mode != "" || q.Lang != "" || q.Publisher != ""
	ans, err := f.Search(r.Context(), q)
	if err != nil {
		d.Error = "catalogue.bad_query"
		status = http.StatusBadRequest
		ans, _ = f.Search(r.Context(), search.Query{PerPage: 10})
	}
	d.Answer = ans
	d.Top, d.Steps = funnel(v, q, ans)
	for _, name := range filterNames() {
		if opts := filterOptions(p, v, name, ans); opts != nil {
			d.Filters[name] = opts
		}
	}
	d.Prev, d.Next = pageLinks(v, q, ans)
	u.render(w, r, p, "catalogue", status)
}

// filterNames are the facets the page offers as filters, in their order.
func filterNames() []string {
	return []string{search.FacetMunicipality, search.FacetPrice, search.FacetMode, search.FacetLang, search.FacetPublisher}
}

// catalogueParams tidies the page's query: an empty select or text box
// sends an empty value, dropped so the address stays short and the parser
// strict; the municipality box takes an ISTAT code, the autocomplete's
// "code name (province)" or a plain name, so it works without JavaScript.
func catalogueParams(v url.Values, d *cataloguePageData) url.Values {
	for k, vs := range v {
		if len(vs) == 1 && vs[0] == "" {
			v.Del(k)
		}
	}
	if m := v.Get("municipality"); m != "" {
		d.MuniText = m
		if code := resolveMunicipality(m); schema.ValidMunicipality(code) {
			v.Set("municipality", code)
			d.MuniText = muniValue(code)
		} else {
			// Not a municipality (or an ambiguous name): say so and search
			// without it, rather than answer with the whole catalogue.
			v.Del("municipality")
			d.Error = "catalogue.muni_unknown"
		}
	}
	return v
}

// funnel is the funnel's buttons: top categories first, then the chosen
// one's children, each with how many results it leaves.
func funnel(v url.Values, q search.Query, ans search.Answer) (*schema.TaxonomyTerm, []funnelStep) {
	counts := map[string]int{}
	for _, fv := range ans.Facets[search.FacetCategory] {
		counts[fv.Value] = fv.Count
	}
	var chosen *schema.TaxonomyTerm
	terms := schema.TopTerms()
	if q.Category != "" {
		t, _ := schema.Term(q.Category)
		top := t
		if t.Parent != "" {
			top, _ = schema.Term(t.Parent)
		}
		chosen = &top
		terms = schema.Children(top.Code)
	}
	var steps []funnelStep
	for _, t := range terms {
		if counts[t.Code] == 0 && q.Category != t.Code {
			continue
		}
		nv := cloneValues(v)
		nv.Set("category", t.Code)
		nv.Del("page")
		steps = append(steps, funnelStep{Code: t.Code, Icon: t.Icon, Href: "/catalogo?" + nv.Encode(), Count: counts[t.Code]})
	}
	return chosen, steps
}

// filterOptions are the values of one filter with their counts and links;
// the chosen value stays listed even when no result has it.
func filterOptions(p *page, v url.Values, name string, ans search.Answer) []facetOption {
	var out []facetOption
	cur := v.Get(name)
	seen := false
	for _, fv := range ans.Facets[name] {
		label := fv.Label
		switch name {
		case search.FacetMunicipality:
			label = p.Muni(fv.Value)
		case search.FacetPrice, search.FacetMode:
			label = p.T("catalogue." + name + "." + fv.Value)
		case search.FacetLang:
			label = p.T("catalogue.langname." + fv.Value)
		}
		if label == "" {
			label = fv.Value
		}
		seen = seen || fv.Value == cur
		nv := cloneValues(v)
		nv.Set(name, fv.Value)
		nv.Del("page")
		out = append(out, facetOption{Value: fv.Value, Label: label, Count: fv.Count, Selected: fv.Value == cur, Href: "/catalogo?" + nv.Encode()})
	}
	if cur != "" && !seen {
		out = append(out, facetOption{Value: cur, Label: cur, Selected: true})
	}
	return out
}

// pageLinks are the previous and next pages' addresses ("" at either end).
func pageLinks(v url.Values, q search.Query, ans search.Answer) (prev, next string) {
	page := max(q.Page, 1)
	if page > 1 {
		nv := cloneValues(v)
		nv.Set("page", strconv.Itoa(page-1))
		prev = "/catalogo?" + nv.Encode()
	}
	if page*10 < ans.Total && page < search.MaxPage {
		nv := cloneValues(v)
		nv.Set("page", strconv.Itoa(page+1))
		next = "/catalogo?" + nv.Encode()
	}
	return prev, next
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

type catalogueDetailData struct {
	Hit search.Listing
}

func (u *ui) catalogueDetail(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "catalogue.detail_title")
	f := u.d.Catalogue
	vars := mux.Vars(r)
	if f == nil || !schema.IsUUID(vars["id"]) || len(vars["publisher"]) > 100 {
		u.notFound(w, r, p)
		return
	}
	l, err := f.Listings.Get(r.Context(), vars["publisher"], vars["id"])
	if err != nil {
		u.notFound(w, r, p)
		return
	}
	hit := search.Listing{Listing: l}
	if q, ok := f.Index.QualificationOf(l.Publisher, l.ID); ok {
		hit.Qualified = &q
	}
	p.Data = catalogueDetailData{Hit: hit}
	u.render(w, r, p, "catalogue_detail", http.StatusOK)
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request, p *page) {
	p.Title = "catalogue.not_found"
	p.Data = catalogueDetailData{}
	u.render(w, r, p, "catalogue_detail", http.StatusNotFound)
}
