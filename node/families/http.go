package families

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// Routes adds GET|POST /api/v1/family-requests, GET /api/v1/family-requests/{id},
// GET /api/v1/family-requests/{id}/matches and GET /api/v1/family-demand.
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/family-requests", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var req Request
		if err := httpx.DecodeJSON(w, r, &req, 64<<10); err != nil {
			return err
		}
		out, err := s.Create(r.Context(), a, req)
		return httpx.Reply(w, http.StatusCreated, map[string]string{"id": out.ID}, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/family-requests", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		rs, err := s.List(r.Context(), a)
		return map[string]any{"requests": rs}, err
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/family-requests/{id}", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Get(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/family-requests/{id}/matches", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		lang := "it"
		if s.texts != nil {
			lang = s.texts.Lang(r.Header.Get("Accept-Language"))
		}
		ms, err := s.Matches(r.Context(), a, mux.Vars(r)["id"], lang)
		return map[string]any{"matches": ms}, err
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/family-demand", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		d, err := s.Demand(r.Context(), a)
		return map[string]any{"unmatched": d}, err
	}))).Methods(http.MethodGet)
}
