package workers

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// API is the workers' HTTP surface: the coop's private records, the
// public search of the federation's profiles and the cost simulator.
type API struct {
	Service  *Service  // nil on a node without it: only public routes
	Profiles *Profiles // nil without federation
	Table    *Table
}

// Routes adds /api/v1/workers..., /api/v1/worker-profiles/... and
// /api/v1/cost-estimate.
func (x API) Routes(r *httpx.Router) {
	v1 := r.API()
	// Before /workers/{id}, which would take "search" for an id.
	v1.HandleFunc("/workers/search", r.Public(x.search)).Methods(http.MethodGet)
	v1.HandleFunc("/worker-profiles/{publisher}/{id}", r.Public(x.profile)).Methods(http.MethodGet)
	v1.HandleFunc("/cost-estimate", r.Public(x.cost)).Methods(http.MethodGet)
	if x.Service == nil {
		return
	}
	s := x.Service
	roles := []auth.Role{auth.Admin, auth.Operator}
	v1.HandleFunc("/workers", r.Role("worker", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.List(r.Context(), a)
	}), roles...)).Methods(http.MethodGet)
	v1.HandleFunc("/workers", r.Role("worker", httpx.JSON(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var wk Worker
		if err := httpx.DecodeJSON(w, r, &wk, 64<<10); err != nil {
			return nil, err
		}
		return s.Create(r.Context(), a, wk)
	}), roles...)).Methods(http.MethodPost)
	v1.HandleFunc("/workers/{id}", r.Role("worker", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Get(r.Context(), a, mux.Vars(r)["id"])
	}), roles...)).Methods(http.MethodGet)
	v1.HandleFunc("/workers/{id}", r.Role("worker", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var wk Worker
		if err := httpx.DecodeJSON(w, r, &wk, 64<<10); err != nil {
			return nil, err
		}
		return s.Update(r.Context(), a, mux.Vars(r)["id"], wk)
	}), roles...)).Methods(http.MethodPut)
	v1.HandleFunc("/workers/{id}/publish", r.Role("worker", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		if err := httpx.NoBody(w, r); err != nil {
			return nil, err
		}
		return s.Publish(r.Context(), a, mux.Vars(r)["id"])
	}), roles...)).Methods(http.MethodPost)
	v1.HandleFunc("/workers/{id}/withdraw", r.Role("worker", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		if err := httpx.NoBody(w, r); err != nil {
			return nil, err
		}
		return s.Withdraw(r.Context(), a, mux.Vars(r)["id"])
	}), roles...)).Methods(http.MethodPost)
}

func (x API) search(w http.ResponseWriter, r *http.Request) error {
	if len(r.URL.RawQuery) > 4096 {
		return problem.BadRequest("bad_query", "query string longer than 4096 bytes", nil)
	}
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if x.Profiles == nil {
		return problem.New(http.StatusServiceUnavailable, "no_federation", "this node runs without federation")
	}
	httpx.WriteJSON(w, http.StatusOK, x.Profiles.Search(q))
	return nil
}

func (x API) profile(w http.ResponseWriter, r *http.Request) error {
	if x.Profiles == nil {
		return problem.ErrNotFound
	}
	p, ok := x.Profiles.Get(mux.Vars(r)["publisher"], mux.Vars(r)["id"])
	if !ok {
		return problem.ErrNotFound
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (x API) cost(w http.ResponseWriter, r *http.Request) error {
	q, err := ParseCostQuery(r.URL.Query())
	if err != nil {
		return err
	}
	e, err := x.Table.Estimate(q)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, e)
	return nil
}
