package notify

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// API is notify's part of the JSON API: each user's in-app inbox, and the
// deliveries the admin follows and retries, under /api/v1.
type API struct {
	Service *Service
	Audit   *audit.Log
}

// Routes adds the inbox and delivery routes.
func (x API) Routes(r *httpx.Router) {
	n := x.Service
	v1 := r.API()
	v1.HandleFunc("/inbox", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": n.Inbox(a), "unread": n.Unread(a)})
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/inbox/{id}/read", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		if err := n.MarkRead(r.Context(), a, mux.Vars(r)["id"]); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})).Methods(http.MethodPost)
	v1.HandleFunc("/deliveries", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		ds, err := n.Deliveries(a, r.URL.Query().Get("state"))
		if err != nil {
			_ = x.Audit.Record(r.Context(), event(a, audit.Denied, "", "list"))
			return problem.ErrForbidden
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": ds})
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/deliveries/{id}/retry", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		id := mux.Vars(r)["id"]
		if err := n.Retry(r.Context(), a, id); err != nil {
			return err
		}
		_ = x.Audit.Record(r.Context(), event(a, audit.Update, id, "retry"))
		w.WriteHeader(http.StatusNoContent)
		return nil
	})).Methods(http.MethodPost)
}

// event is an audit event of a delivery.
func event(a auth.Actor, act audit.Action, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: "delivery", Object: id, Remote: a.Remote, Detail: detail}
}
