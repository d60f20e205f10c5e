package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/hsds"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// hsdsRoutes serve the federated catalogue as an Open Referral HSDS 3.0
// read API. Public, like the catalogue search.
func (s *Server) hsdsRoutes() {
	h := s.Router.PathPrefix("/hsds").Subrouter()
	h.HandleFunc("/", s.hsdsRoot).Methods(http.MethodGet)
	h.HandleFunc("/services", s.hsdsServices).Methods(http.MethodGet)
	h.HandleFunc("/services/{id}", s.hsdsService).Methods(http.MethodGet)
	h.HandleFunc("/organizations", s.hsdsOrganizations).Methods(http.MethodGet)
	h.HandleFunc("/organizations/{id}", s.hsdsOrganization).Methods(http.MethodGet)
	h.HandleFunc("/taxonomies", s.hsdsTaxonomies).Methods(http.MethodGet)
	h.HandleFunc("/taxonomy_terms", s.hsdsTaxonomyTerms).Methods(http.MethodGet)
}

// hsdsPage reads HSDS's page and per_page (1-based, at most 100 a page).
func hsdsPage(r *http.Request) (page, per int, err error) {
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

func (s *Server) hsdsRoot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, hsds.RootInfo())
}

// hsdsServices lists services through the search index: search= is free
// text, taxonomy_term_id= a service category, organization_id= a coop.
func (s *Server) hsdsServices(w http.ResponseWriter, r *http.Request) {
	page, per, err := hsdsPage(r)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	v := r.URL.Query()
	q := search.Query{Text: strings.TrimSpace(v.Get("search")), Page: page, PerPage: per}
	if id := v.Get("taxonomy_term_id"); id != "" {
		code, ok := hsds.TermCode(id)
		if !ok {
			writeError(w, r, problem.BadRequest("bad_query", "taxonomy_term_id is not a service category term", nil), s.d.Logger)
			return
		}
		q.Category = code
	}
	if id := v.Get("organization_id"); id != "" {
		pub, ok := s.hsdsPublisher(id)
		if !ok {
			writeJSON(w, http.StatusOK, hsds.NewPage[schema.HSDSServiceDoc](0, page, per, nil))
			return
		}
		q.Publisher = pub
	}
	ans, err := SearchCatalogue(r.Context(), s.d.Federation, q)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	docs := make([]schema.HSDSServiceDoc, 0, len(ans.Results))
	for _, h := range ans.Results {
		docs = append(docs, schema.HSDSService(h.Publisher, h.CoopName, h.Offering, h.IssuedAt))
	}
	writeJSON(w, http.StatusOK, hsds.NewPage(ans.Total, page, per, docs))
}

func (s *Server) hsdsService(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	pub, key, ok := s.d.Federation.Search().LookupHSDS(r.Context(), id)
	if !ok {
		writeError(w, r, problem.ErrNotFound, s.d.Logger)
		return
	}
	l, err := s.d.Federation.Catalogue().Get(r.Context(), pub, key)
	if err != nil {
		writeError(w, r, problem.ErrNotFound, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, schema.HSDSService(l.Publisher, l.CoopName, l.Offering, l.IssuedAt))
}

// hsdsPublisher finds the publisher whose organization id is id.
func (s *Server) hsdsPublisher(id string) (string, bool) {
	for pub := range s.d.Federation.Catalogue().Coops() {
		if schema.DerivedUUID("organization", pub) == id {
			return pub, true
		}
	}
	return "", false
}

func (s *Server) hsdsOrganizations(w http.ResponseWriter, r *http.Request) {
	page, per, err := hsdsPage(r)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	orgs, err := hsds.Organizations(r.Context(), s.d.Federation.Replica())
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, hsds.Paginate(orgs, page, per))
}

func (s *Server) hsdsOrganization(w http.ResponseWriter, r *http.Request) {
	pub, ok := s.hsdsPublisher(mux.Vars(r)["id"])
	if !ok {
		writeError(w, r, problem.ErrNotFound, s.d.Logger)
		return
	}
	p, ok := hsds.CoopProfile(r.Context(), s.d.Federation.Replica(), pub)
	if !ok {
		writeError(w, r, problem.ErrNotFound, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, schema.HSDSOrganization(pub, p))
}

func (s *Server) hsdsTaxonomies(w http.ResponseWriter, r *http.Request) {
	page, per, err := hsdsPage(r)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, hsds.Paginate(hsds.Taxonomies(), page, per))
}

func (s *Server) hsdsTaxonomyTerms(w http.ResponseWriter, r *http.Request) {
	page, per, err := hsdsPage(r)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	v := r.URL.Query()
	top := false
	switch v.Get("top_only") {
	case "", "false", "0":
	case "true", "1":
		top = true
	default:
		writeError(w, r, problem.BadRequest("bad_query", "top_only must be true or false", nil), s.d.Logger)
		return
	}
	terms := hsds.TaxonomyTerms(v.Get("parent_id"), top)
	if tid := v.Get("taxonomy_id"); tid != "" {
		kept := terms[:0]
		for _, t := range terms {
			if t.TaxonomyID == tid {
				kept = append(kept, t)
			}
		}
		terms = kept
	}
	writeJSON(w, http.StatusOK, hsds.Paginate(terms, page, per))
}
