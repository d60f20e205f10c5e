package contacts

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// AskBody is the body of POST /api/v1/family-requests/{id}/contacts.
type AskBody struct {
	Profile string `json:"profile"`
	Message string `json:"message,omitempty"`
}

// Routes adds the family's POST|GET /api/v1/family-requests/{id}/contacts
// and the coop's GET /api/v1/worker-contacts, GET
// /api/v1/worker-contacts/{id} and POST /api/v1/worker-contacts/{id}/answer.
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/family-requests/{id}/contacts", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in AskBody
		if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
			return err
		}
		c, err := s.Ask(r.Context(), a, mux.Vars(r)["id"], in.Profile, in.Message)
		return httpx.Reply(w, http.StatusCreated, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/family-requests/{id}/contacts", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		cs, err := s.ForRequest(r.Context(), a, mux.Vars(r)["id"])
		return map[string]any{"contacts": cs}, err
	}))).Methods(http.MethodGet)
	coop := []auth.Role{auth.Admin, auth.Operator}
	v1.HandleFunc("/worker-contacts", r.Role("worker_contact", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		cs, err := s.Received(r.Context(), a, r.URL.Query().Get("worker"))
		return map[string]any{"contacts": cs}, err
	}), coop...)).Methods(http.MethodGet)
	v1.HandleFunc("/worker-contacts/{id}", r.Role("worker_contact", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Get(r.Context(), a, mux.Vars(r)["id"])
	}), coop...)).Methods(http.MethodGet)
	v1.HandleFunc("/worker-contacts/{id}/answer", r.Role("worker_contact", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var in struct {
			State string `json:"state"`
		}
		if err := httpx.DecodeJSON(w, r, &in, 1<<10); err != nil {
			return nil, err
		}
		return s.Answer(r.Context(), a, mux.Vars(r)["id"], in.State)
	}), coop...)).Methods(http.MethodPost)
}
