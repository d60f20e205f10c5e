package escalation

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// API is escalation's part of the JSON API: outcomes, cases and their
// actions, alerts, escalation settings and the dashboard, under /api/v1.
type API struct {
	Service *Service
	// CaregiverName reads a local caregiver's name as the actor (the
	// registry audits it), for the CSV export; nil: ids only.
	CaregiverName func(ctx context.Context, a auth.Actor, id string) (string, bool)
}

// maxBody bounds the JSON bodies this package reads.
const maxBody = 64 << 10

// Routes adds the escalation routes.
func (x API) Routes(r *httpx.Router) {
	s := x.Service
	v1 := r.API()
	v1.HandleFunc("/outcomes", r.Authed(s.postOutcome)).Methods(http.MethodPost)
	caseRoutes(r, s)
	alertRoutes(r, s)
	v1.HandleFunc("/escalation/settings/{beneficiary}", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		st, err := s.GetSettings(r.Context(), a, mux.Vars(r)["beneficiary"])
		return httpx.Reply(w, http.StatusOK, st, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/escalation/settings/{beneficiary}", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var st Settings
		if err := httpx.DecodeJSON(w, r, &st, maxBody); err != nil {
			return err
		}
		st.Beneficiary = mux.Vars(r)["beneficiary"]
		st, err := s.SaveSettings(r.Context(), a, st)
		return httpx.Reply(w, http.StatusOK, st, err)
	})).Methods(http.MethodPut)
	v1.HandleFunc("/escalation/dashboard", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		from, to := s.Period(r)
		d, err := s.Dashboard(r.Context(), a, from, to)
		return httpx.Reply(w, http.StatusOK, d, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/escalation/dashboard.csv", r.Authed(x.dashboardCSV)).Methods(http.MethodGet)
}

func (s *Service) postOutcome(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in struct {
		Outcome
		Node string `json:"node,omitempty"` // the beneficiary's node, when it is another coop's
	}
	if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if in.Node != "" {
		o, err := s.SubmitOutcome(r.Context(), a, in.Node, in.Outcome)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, RemoteAnswer{OK: true, Outcome: o.ID, Case: o.Case})
		return nil
	}
	o, err := s.RecordOutcome(r.Context(), a, in.Outcome)
	return httpx.Reply(w, http.StatusCreated, o, err)
}

// caseRoutes are the cases of the coop and what a caregiver does on one.
func caseRoutes(r *httpx.Router, s *Service) {
	v1 := r.API()
	v1.HandleFunc("/cases", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		cs, err := s.Cases(r.Context(), a, CaseQuery{State: r.URL.Query().Get("state"), Beneficiary: r.URL.Query().Get("beneficiary")})
		return httpx.Reply(w, http.StatusOK, map[string]any{"items": cs}, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}", onCase(r, func(ctx context.Context, a auth.Actor, id string, _ *http.Request) (Case, error) {
		return s.Case(ctx, a, id)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}/actions", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Kind string `json:"kind"`
		}
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.AddAction(r.Context(), a, mux.Vars(r)["id"], in.Kind)
		return httpx.Reply(w, http.StatusOK, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/actions/{kind}/done", onCase(r, func(ctx context.Context, a auth.Actor, id string, r *http.Request) (Case, error) {
		return s.CompleteAction(ctx, a, id, mux.Vars(r)["kind"])
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/close", onCase(r, func(ctx context.Context, a auth.Actor, id string, _ *http.Request) (Case, error) {
		return s.CloseCase(ctx, a, id)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/emergency", onCase(r, func(ctx context.Context, a auth.Actor, id string, _ *http.Request) (Card, error) {
		return s.Emergency(ctx, a, id)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}/emergency/called", onCase(r, func(ctx context.Context, a auth.Actor, id string, _ *http.Request) (Case, error) {
		return s.EmergencyCalled(ctx, a, id)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/proposals", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Publisher string `json:"publisher"`
			Key       string `json:"key"`
			Accepted  bool   `json:"accepted"`
		}
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.AnswerProposal(r.Context(), a, mux.Vars(r)["id"], in.Publisher, in.Key, in.Accepted)
		return httpx.Reply(w, http.StatusOK, c, err)
	})).Methods(http.MethodPost)
}

// onCase is a route that reads or changes the case of its {id} and
// answers with what do returns.
func onCase[T any](r *httpx.Router, do func(ctx context.Context, a auth.Actor, id string, r *http.Request) (T, error)) http.HandlerFunc {
	return r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		v, err := do(r.Context(), a, mux.Vars(r)["id"], r)
		return httpx.Reply(w, http.StatusOK, v, err)
	})
}

// alertRoutes are a case's alerts and their acknowledgement.
func alertRoutes(r *httpx.Router, s *Service) {
	v1 := r.API()
	v1.HandleFunc("/cases/{id}/alerts", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		als, err := s.Alerts(r.Context(), a, mux.Vars(r)["id"])
		if err != nil {
			return err
		}
		for i := range als {
			als[i] = als[i].Public()
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": als})
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/alerts/{id}/ack", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		al, err := s.Ack(r.Context(), a, mux.Vars(r)["id"])
		al = al.Public()
		return httpx.Reply(w, http.StatusOK, al, err)
	})).Methods(http.MethodPost)
	// The link in an e-mail or SMS: POST only, so mail scanners that
	// fetch links do not acknowledge for the person (the page at
	// /escalation/ack/{token} has the button).
	v1.HandleFunc("/ack/{token}", r.Public(func(w http.ResponseWriter, r *http.Request) error {
		al, err := s.AckByToken(r.Context(), mux.Vars(r)["token"], httpx.RemoteIP(r))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"alert": al.ID, "state": al.State})
		return nil
	})).Methods(http.MethodPost)
}

func (x API) dashboardCSV(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	s := x.Service
	from, to := s.Period(r)
	d, err := s.Dashboard(r.Context(), a, from, to)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, row := range d.ByCaregiver {
		// Another coop's caregiver stays "<peer>/<id>".
		if x.CaregiverName != nil && row.Caregiver != "" && !strings.Contains(row.Caregiver, "/") {
			if name, ok := x.CaregiverName(r.Context(), a, row.Caregiver); ok {
				names[row.Caregiver] = name
			}
		}
	}
	s.cfg.Audit.Note(s.event(a, audit.Export, "dashboard", "", "csv"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="difronte-dashboard.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return d.WriteCSV(w, names)
}

// Period reads from/to (YYYY-MM-DD) of a dashboard request; default the
// last twelve months.
func (s *Service) Period(r *http.Request) (time.Time, time.Time) {
	now := s.now()
	to := now.Add(time.Minute)
	from := now.AddDate(-1, 0, 0)
	if t, err := time.Parse("2006-01-02", r.URL.Query().Get("from")); err == nil {
		from = t
	}
	if t, err := time.Parse("2006-01-02", r.URL.Query().Get("to")); err == nil {
		to = t.AddDate(0, 0, 1)
	}
	return from, to
}
