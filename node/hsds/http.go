package hsds

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// API serves the federated catalogue as an Open Referral HSDS 3.0 read
// API under /hsds. Public, like the catalogue search.
type API struct {
	Catalogue *search.Catalogue
	Replica   *replica.Replica
}

// Routes adds the /hsds routes.
func (x API) Routes(r *httpx.Router) {
	h := r.Root().PathPrefix("/hsds").Subrouter()
	h.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, RootInfo())
	}).Methods(http.MethodGet)
	h.HandleFunc("/services", r.Public(x.services)).Methods(http.MethodGet)
	h.HandleFunc("/services/{id}", r.Public(x.service)).Methods(http.MethodGet)
	h.HandleFunc("/organizations", r.Public(x.organizations)).Methods(http.MethodGet)
	h.HandleFunc("/organizations/{id}", r.Public(x.organization)).Methods(http.MethodGet)
	h.HandleFunc("/taxonomies", r.Public(taxonomies)).Methods(http.MethodGet)
	h.HandleFunc("/taxonomy_terms", r.Public(taxonomyTerms)).Methods(http.MethodGet)
}

// pageOf reads HSDS's page and per_page (1-based, at most 100 a page).
func pageOf(r *http.Request) (page, per int, err error) {
	page, per = 1, 20
	v := r.URL.Query()
	if p := v.Get("page"); p != "" {
		n, e := strconv.Atoi(p)
		if e != nil || n < 1 || n > search.MaxPage {
			return 0, 0, problem.BadRequest("bad_query", "page must be a number between 1 and "+strconv.Itoa(search.MaxPage), e)
		}
		page = n
	}
	if p := v.Get("per_page"); p != "" {
		n, e := strconv.Atoi(p)
		if e != nil || n < 1 || n > search.MaxPerPage {
			return 0, 0, problem.BadRequest("bad_query", "per_page must be a number between 1 and "+strconv.Itoa(search.MaxPerPage), e)
		}
		per = n
	}
	return page, per, nil
}

// services lists services through the search index: search= is free
// text, taxonomy_term_id= a service category, organization_id= a coop.
func (x API) services(w http.ResponseWriter, r *http.Request) error {
	page, per, err := pageOf(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := search.Query{Text: strings.TrimSpace(v.Get("search")), Page: page, PerPage: per}
	if id := v.Get("taxonomy_term_id"); id != "" {
		code, ok := TermCode(id)
		if !ok {
			return problem.BadRequest("bad_query", "taxonomy_term_id is not a service category term", nil)
		}
		q.Category = code
	}
	if id := v.Get("organization_id"); id != "" {
		pub, ok := x.publisher(id)
		if !ok {
			httpx.WriteJSON(w, http.StatusOK, NewPage[schema.HSDSServiceDoc](0, page, per, nil))
			return nil
		}
		q.Publisher = pub
	}
	total, found, err := x.Catalogue.SearchListings(r.Context(), q)
	if err != nil {
		return err
	}
	docs := make([]schema.HSDSServiceDoc, 0, len(found))
	for _, h := range found {
		docs = append(docs, schema.HSDSService(h.Publisher, h.CoopName, h.Offering, h.IssuedAt))
	}
	httpx.WriteJSON(w, http.StatusOK, NewPage(total, page, per, docs))
	return nil
}

func (x API) service(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	pub, key, ok := x.Catalogue.Index.LookupHSDS(r.Context(), id)
	if !ok {
		return problem.ErrNotFound
	}
	l, err := x.Catalogue.Listings.Get(r.Context(), pub, key)
	if err != nil {
		return problem.ErrNotFound
	}
	httpx.WriteJSON(w, http.StatusOK, schema.HSDSService(l.Publisher, l.CoopName, l.Offering, l.IssuedAt))
	return nil
}

// publisher finds the publisher whose organization id is id.
func (x API) publisher(id string) (string, bool) {
	for pub := range x.Catalogue.Listings.Coops() {
		if schema.DerivedUUID("organization", pub) == id {
			return pub, true
		}
	}
	return "", false
}

func (x API) organizations(w http.ResponseWriter, r *http.Request) error {
	page, per, err := pageOf(r)
	if err != nil {
		return err
	}
	orgs, err := Organizations(r.Context(), x.Replica)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Paginate(orgs, page, per))
	return nil
}

func (x API) organization(w http.ResponseWriter, r *http.Request) error {
	pub, ok := x.publisher(mux.Vars(r)["id"])
	if !ok {
		return problem.ErrNotFound
	}
	p, ok := CoopProfile(r.Context(), x.Replica, pub)
	if !ok {
		return problem.ErrNotFound
	}
	httpx.WriteJSON(w, http.StatusOK, schema.HSDSOrganization(pub, p))
	return nil
}

func taxonomies(w http.ResponseWriter, r *http.Request) error {
	page, per, err := pageOf(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Paginate(Taxonomies(), page, per))
	return nil
}

func taxonomyTerms(w http.ResponseWriter, r *http.Request) error {
	page, per, err := pageOf(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	top := false
	switch v.Get("top_only") {
	case "", "false", "0":
	case "true", "1":
		top = true
	default:
		return problem.BadRequest("bad_query", "top_only must be true or false", nil)
	}
	terms := TaxonomyTerms(v.Get("parent_id"), top)
	if tid := v.Get("taxonomy_id"); tid != "" {
		kept := terms[:0]
		for _, t := range terms {
			if t.TaxonomyID == tid {
				kept = append(kept, t)
			}
		}
		terms = kept
	}
	httpx.WriteJSON(w, http.StatusOK, Paginate(terms, page, per))
	return nil
}
