package care

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
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
	v1.HandleFunc("/caregivers/{id}/photo", r.Public(s.getPhoto)).Methods(http.MethodGet)
	v1.HandleFunc("/caregivers/{id}/photo", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPhoto+1))
		if err != nil && !isTooLarge(err) {
			return nil, err
		}
		return s.SetCaregiverPhoto(r.Context(), a, mux.Vars(r)["id"], b)
	}))).Methods(http.MethodPut)
	v1.HandleFunc("/caregivers/{id}/photo", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.RemoveCaregiverPhoto(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodDelete)
}

// DeviceHeader carries a paired terminal's device credential on the
// requests it makes besides its socket (the caller's photo).
const DeviceHeader = "X-Difronte-Device"

// getPhoto answers a caregiver's photo to the coop's staff (session) or
// to a paired terminal of a person she calls (DeviceHeader).
func (s *Service) getPhoto(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	var p Photo
	var err error
	if a, ok := httpx.Actor(r); ok {
		p, err = s.CaregiverPhoto(r.Context(), a, id)
	} else if cred := r.Header.Get(DeviceHeader); cred != "" {
		p, err = s.CallerPhoto(r.Context(), cred, id, httpx.RemoteIP(r))
	} else {
		err = problem.ErrUnauthorized
	}
	if err != nil {
		return err
	}
	WritePhoto(w, r, p)
	return nil
}

// WritePhoto answers a stored photo: its type, never sniffed by the
// browser, kept only by the reader's own browser, revalidated by its tag.
func WritePhoto(w http.ResponseWriter, r *http.Request, p Photo) {
	h := w.Header()
	h.Set("Content-Type", p.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("ETag", `"`+p.Tag+`"`)
	if r.Header.Get("If-None-Match") == `"`+p.Tag+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(p.Bytes)))
	_, _ = w.Write(p.Bytes)
}

// isTooLarge: the body went over its limit; the photo check then refuses
// it as too large (the bytes read so far are one more than allowed).
func isTooLarge(err error) bool {
	var e *http.MaxBytesError
	return errors.As(err, &e)
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
