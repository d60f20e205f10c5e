package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/auth/authhttp"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// nodeRoutes are what the node says about itself and the reference data
// every form uses.
func (s *Server) nodeRoutes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/node", s.node).Methods(http.MethodGet)
	v1.HandleFunc("/taxonomy", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"terms": schema.Taxonomy()})
	}).Methods(http.MethodGet)
	v1.HandleFunc("/municipalities", r.Public(municipalities)).Methods(http.MethodGet)
}

func (s *Server) node(w http.ResponseWriter, r *http.Request) {
	info := s.d.Info()
	if info.Addrs == nil {
		info.Addrs = []string{}
	}
	httpx.WriteJSON(w, http.StatusOK, info)
}

func municipalities(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	if len(q) > 100 {
		return problem.BadRequest("bad_query", "query longer than 100 bytes", nil)
	}
	limit := 10
	if q == "" {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"results": []schema.Municipality{}})
		return nil
	}
	res := schema.SearchMunicipalities(q, limit)
	if res == nil {
		res = []schema.Municipality{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"results": res})
	return nil
}

// Sessions.

// sessions are the login, logout, me and accounts routes.
func (s *Server) sessions() authhttp.API {
	return authhttp.API{Accounts: auth.Accounts{Auth: s.d.Auth, Audit: s.d.Audit}, Secure: s.d.Secure}
}

// SetSessionCookie gives the browser its session.
func (s *Server) SetSessionCookie(w http.ResponseWriter, tok string, expires time.Time) {
	s.sessions().SetSessionCookie(w, tok, expires)
}

// Logout ends the request's session, audits it and clears the cookie.
func (s *Server) Logout(w http.ResponseWriter, r *http.Request) { s.sessions().Logout(w, r) }

// Audit.

func (s *Server) auditRoutes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/audit", r.Role("audit", s.auditList, auth.Admin)).Methods(http.MethodGet)
	v1.HandleFunc("/audit/verify", r.Role("audit", s.auditVerify, auth.Admin)).Methods(http.MethodGet)
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request, _ auth.Actor) error {
	v := r.URL.Query()
	f := audit.Filter{Kind: v.Get("kind"), Object: v.Get("object"), Actor: v.Get("actor")}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			return problem.BadRequest("bad_query", "before must be a number", err)
		}
		f.Before = n
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return problem.BadRequest("bad_query", "limit must be between 1 and 500", err)
		}
		f.Limit = n
	}
	evs, err := s.d.Audit.Query(r.Context(), f)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []audit.Event{}
	}
	n, head := s.d.Audit.Head()
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"events": evs, "count": n, "head": head})
	return nil
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ auth.Actor) error {
	n, err := s.d.Audit.Verify(r.Context())
	if errors.Is(err, audit.ErrBroken) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"ok": false, "checked": n, "error": err.Error()})
		return nil
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "checked": n})
	return nil
}
