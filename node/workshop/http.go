package workshop

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// Routes adds the workshop's routes under /api/v1: the intake and the
// probe's report, a terminal's workshop view, moves, probe code and
// taking it, the queue, work records, workers and stats.
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	role := func(status int, fn func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error), roles ...auth.Role) http.HandlerFunc {
		return r.Role("workshop", httpx.JSON(status, fn), roles...)
	}
	v1.HandleFunc("/terminals/intake", role(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var in Intake
		if err := httpx.DecodeJSON(w, r, &in, MaxPhoto+4<<10); err != nil {
			return nil, err
		}
		return s.TakeIn(r.Context(), a, in)
	}, workers...)).Methods(http.MethodPost)
	v1.HandleFunc("/terminals/probe", r.Public(s.probe)).Methods(http.MethodPost)
	v1.HandleFunc("/terminals/{id}/workshop", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Device(r.Context(), a, mux.Vars(r)["id"])
	}, workers...)).Methods(http.MethodGet)
	v1.HandleFunc("/terminals/{id}/transitions", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var tr Transition
		if err := httpx.DecodeJSON(w, r, &tr, 64<<10); err != nil {
			return nil, err
		}
		return s.Move(r.Context(), a, mux.Vars(r)["id"], tr)
	}, workers...)).Methods(http.MethodPost)
	v1.HandleFunc("/terminals/{id}/probe-code", role(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		if err := httpx.NoBody(w, r); err != nil {
			return nil, err
		}
		return s.NewCode(r.Context(), a, mux.Vars(r)["id"])
	}, workers...)).Methods(http.MethodPost)
	v1.HandleFunc("/terminals/{id}/take", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		if err := httpx.NoBody(w, r); err != nil {
			return nil, err
		}
		return s.Take(r.Context(), a, mux.Vars(r)["id"])
	}, workers...)).Methods(http.MethodPost)
	v1.HandleFunc("/refurbishment/queue", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Queue(r.Context(), a, r.URL.Query().Get("mine") == "1" || r.URL.Query().Get("mine") == "true")
	}, workers...)).Methods(http.MethodGet)
	v1.HandleFunc("/refurbishment/worklog", role(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var e WorkEntry
		if err := httpx.DecodeJSON(w, r, &e, 16<<10); err != nil {
			return nil, err
		}
		return s.LogWork(r.Context(), a, e)
	}, workers...)).Methods(http.MethodPost)
	v1.HandleFunc("/refurbishment/worklog", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		t := r.URL.Query().Get("terminal")
		if t == "" {
			return nil, problem.Invalid(map[string]string{"terminal": "required"})
		}
		return s.WorkOn(r.Context(), a, t)
	}, workers...)).Methods(http.MethodGet)
	v1.HandleFunc("/refurbishment/workers", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Workers(r.Context(), a)
	}, workers...)).Methods(http.MethodGet)
	v1.HandleFunc("/refurbishment/workers/{username}", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Worker(r.Context(), a, mux.Vars(r)["username"])
	}, workers...)).Methods(http.MethodGet)
	v1.HandleFunc("/refurbishment/stats", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Stats(r.Context(), a)
	}, auth.Admin)).Methods(http.MethodGet)
	v1.HandleFunc("/authority/refurbishment", role(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.FederationStats(r.Context(), a)
	}, auth.Officer, auth.Admin)).Methods(http.MethodGet)
}

// probeRequest is the probe's body; the report is decoded by
// DecodeReport, strictly.
type probeRequest struct {
	Code   string          `json:"code"`
	Report json.RawMessage `json:"report"`
}

// probe is the one route without an account: the one-time code is the
// credential, rate-limited per client address.
func (s *Service) probe(w http.ResponseWriter, r *http.Request) error {
	var req probeRequest
	if err := httpx.DecodeJSON(w, r, &req, MaxReport+1<<10); err != nil {
		return err
	}
	missing := map[string]string{}
	if req.Code == "" {
		missing["code"] = "required"
	}
	if len(req.Report) == 0 || string(req.Report) == "null" {
		missing["report"] = "required"
	}
	if err := problem.Invalid(missing); err != nil {
		return err
	}
	rep, err := DecodeReport(req.Report)
	if err != nil {
		return problem.BadRequest("bad_report", err.Error(), err)
	}
	id, err := s.AttachReport(r.Context(), httpx.RemoteIP(r), req.Code, rep)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"terminal": id, "warnings": nonNil(rep.Warnings())})
	return nil
}
