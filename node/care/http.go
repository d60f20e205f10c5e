package care

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/store"
)

// Routes adds the registry's routes under /api/v1: /beneficiaries,
// /caregivers and /terminals, each listed, read, created, changed and
// archived by the rules of Service.
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	registryRoutes(r, v1, "beneficiaries", s.ListBeneficiariesJSON, s.Beneficiary, s.CreateBeneficiary, s.UpdateBeneficiary, s.ArchiveBeneficiary)
	registryRoutes(r, v1, "caregivers", s.ListCaregiversJSON, s.Caregiver, s.CreateCaregiver, s.UpdateCaregiver, s.ArchiveCaregiver)
	registryRoutes(r, v1, "terminals", s.ListTerminalsJSON, s.Terminal, s.CreateTerminal, s.UpdateTerminal, s.ArchiveTerminal)
}

func registryRoutes[T any](
	rt *httpx.Router, v1 *mux.Router, name string,
	list func(context.Context, auth.Actor, Query) (store.RawPage, error),
	get func(context.Context, auth.Actor, string) (T, error),
	create func(context.Context, auth.Actor, T) (T, error),
	update func(context.Context, auth.Actor, string, T) (T, error),
	archive func(context.Context, auth.Actor, string) (T, error),
) {
	v1.HandleFunc("/"+name, rt.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		q, err := httpx.ParseListQuery(r)
		if err != nil {
			return nil, err
		}
		return list(r.Context(), a, Query(q))
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/"+name, rt.Authed(httpx.JSON(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var t T
		if err := httpx.DecodeJSON(w, r, &t, httpx.MaxBody); err != nil {
			return nil, err
		}
		return create(r.Context(), a, t)
	}))).Methods(http.MethodPost)
	v1.HandleFunc("/"+name+"/{id}", rt.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return get(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/"+name+"/{id}", rt.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var t T
		if err := httpx.DecodeJSON(w, r, &t, httpx.MaxBody); err != nil {
			return nil, err
		}
		return update(r.Context(), a, mux.Vars(r)["id"], t)
	}))).Methods(http.MethodPut)
	v1.HandleFunc("/"+name+"/{id}", rt.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return archive(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodDelete)
}
