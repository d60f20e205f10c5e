package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/search"
)

// Coop is a coop node of the federation as this node knows it.
type Coop struct {
	PeerID   string    `json:"peer_id"`
	CoopName string    `json:"coop_name"`
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Records  int       `json:"records"` // live records this node holds from it
	Self     bool      `json:"self"`
	Addrs    []string  `json:"addrs,omitempty"`
}

// Federation is what the API needs from the node's federation.
type Federation interface {
	Catalogue() *catalog.Catalogue
	Search() *search.Index
	Replica() *replica.Replica
	Coops() []Coop
}

func (s *Server) federationRoutes() {
	if s.d.Federation == nil {
		return
	}
	v1 := s.Router.PathPrefix("/api/v1").Subrouter()
	v1.HandleFunc("/catalogue/search", s.catalogueSearch).Methods(http.MethodGet)
	v1.HandleFunc("/federation/peers", s.federationPeers).Methods(http.MethodGet)
	s.hsdsRoutes()
}

// pageParams reads ?page=&per_page= (1-based page, at most 100 per page).
func pageParams(r *http.Request) (offset, limit int, err error) {
	v := r.URL.Query()
	page, per := 1, 20
	if p := v.Get("page"); p != "" {
		n, e := strconv.Atoi(p)
		if e != nil || n < 1 || n > 100000 {
			return 0, 0, problem.BadRequest("bad_query", "page must be a number between 1 and 100000", e)
		}
		page = n
	}
	if p := v.Get("per_page"); p != "" {
		n, e := strconv.Atoi(p)
		if e != nil || n < 1 || n > 100 {
			return 0, 0, problem.BadRequest("bad_query", "per_page must be a number between 1 and 100", e)
		}
		per = n
	}
	return (page - 1) * per, per, nil
}

// federationPeers lists the coops of the federation. Public: which coops
// exist and whether they are online is not private.
func (s *Server) federationPeers(w http.ResponseWriter, r *http.Request) {
	cs := s.d.Federation.Coops()
	if cs == nil {
		cs = []Coop{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(cs), "peers": cs})
}
