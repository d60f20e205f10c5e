package escalation

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/problem"
)

// HTTP is what Mount needs besides the service.
type HTTP struct {
	Notify  *notify.Service
	Carrier Carrier // nil without federation
	// CaregiverName reads a local caregiver's name as the actor (the
	// registry audits it), for the CSV export; nil: ids only.
	CaregiverName func(ctx context.Context, a auth.Actor, id string) (string, bool)
}

// Mount adds the escalation and notification API under /api/v1.
func (s *Service) Mount(r *mux.Router, h HTTP) {
	if h.Carrier != nil && s.carrier == nil {
		s.carrier = h.Carrier
	}
	v1 := r.PathPrefix("/api/v1").Subrouter()
	v1.HandleFunc("/outcomes", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Outcome
			Node string `json:"node,omitempty"` // the beneficiary's node, when it is another coop's
		}
		if err := api.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		if in.Node != "" {
			o, err := s.SubmitOutcome(r.Context(), a, in.Node, in.Outcome)
			if err != nil {
				return err
			}
			api.WriteJSON(w, http.StatusCreated, RemoteAnswer{OK: true, Outcome: o.ID, Case: o.Case})
			return nil
		}
		o, err := s.RecordOutcome(r.Context(), a, in.Outcome)
		if err != nil {
			return err
		}
		api.WriteJSON(w, http.StatusCreated, o)
		return nil
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		cs, err := s.Cases(r.Context(), a, CaseQuery{State: r.URL.Query().Get("state"), Beneficiary: r.URL.Query().Get("beneficiary")})
		if err != nil {
			return err
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{"items": cs})
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		c, err := s.Case(r.Context(), a, mux.Vars(r)["id"])
		return reply(w, c, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}/actions", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Kind string `json:"kind"`
		}
		if err := api.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.AddAction(r.Context(), a, mux.Vars(r)["id"], in.Kind)
		return reply(w, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/actions/{kind}/done", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		c, err := s.CompleteAction(r.Context(), a, mux.Vars(r)["id"], mux.Vars(r)["kind"])
		return reply(w, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/close", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		c, err := s.CloseCase(r.Context(), a, mux.Vars(r)["id"])
		return reply(w, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/emergency", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		c, err := s.Emergency(r.Context(), a, mux.Vars(r)["id"])
		return reply(w, c, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{id}/emergency/called", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		c, err := s.EmergencyCalled(r.Context(), a, mux.Vars(r)["id"])
		return reply(w, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/proposals", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Publisher string `json:"publisher"`
			Key       string `json:"key"`
			Accepted  bool   `json:"accepted"`
		}
		if err := api.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.AnswerProposal(r.Context(), a, mux.Vars(r)["id"], in.Publisher, in.Key, in.Accepted)
		return reply(w, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/{id}/alerts", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		als, err := s.Alerts(r.Context(), a, mux.Vars(r)["id"])
		if err != nil {
			return err
		}
		for i := range als {
			als[i].TokenHash = ""
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{"items": als})
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/alerts/{id}/ack", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		al, err := s.Ack(r.Context(), a, mux.Vars(r)["id"])
		al.TokenHash = ""
		return reply(w, al, err)
	})).Methods(http.MethodPost)
	// The link in an e-mail or SMS: POST only, so mail scanners that
	// fetch links do not acknowledge for the person (the page at
	// /escalation/ack/{token} has the button).
	v1.HandleFunc("/ack/{token}", func(w http.ResponseWriter, r *http.Request) {
		al, err := s.AckByToken(r.Context(), mux.Vars(r)["token"], api.RemoteIP(r))
		if err != nil {
			writeErr(w, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]string{"alert": al.ID, "state": al.State})
	}).Methods(http.MethodPost)
	v1.HandleFunc("/escalation/settings/{beneficiary}", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		st, err := s.GetSettings(r.Context(), a, mux.Vars(r)["beneficiary"])
		return reply(w, st, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/escalation/settings/{beneficiary}", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var st Settings
		if err := api.DecodeJSON(w, r, &st, maxBody); err != nil {
			return err
		}
		st.Beneficiary = mux.Vars(r)["beneficiary"]
		st, err := s.SaveSettings(r.Context(), a, st)
		return reply(w, st, err)
	})).Methods(http.MethodPut)
	v1.HandleFunc("/escalation/dashboard", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		from, to := s.Period(r)
		d, err := s.Dashboard(r.Context(), a, from, to)
		return reply(w, d, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/escalation/dashboard.csv", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		from, to := s.Period(r)
		d, err := s.Dashboard(r.Context(), a, from, to)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, row := range d.ByCaregiver {
			// Another coop's caregiver stays "<peer>/<id>".
			if h.CaregiverName != nil && row.Caregiver != "" && !strings.Contains(row.Caregiver, "/") {
				if name, ok := h.CaregiverName(r.Context(), a, row.Caregiver); ok {
					names[row.Caregiver] = name
				}
			}
		}
		s.cfg.Audit.Note(s.event(a, audit.Export, "dashboard", "", "csv"))
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="difronte-dashboard.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return d.WriteCSV(w, names)
	})).Methods(http.MethodGet)
	if h.Notify != nil {
		n := h.Notify
		v1.HandleFunc("/inbox", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
			api.WriteJSON(w, http.StatusOK, map[string]any{"items": n.Inbox(a), "unread": n.Unread(a)})
			return nil
		})).Methods(http.MethodGet)
		v1.HandleFunc("/inbox/{id}/read", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
			if err := n.MarkRead(r.Context(), a, mux.Vars(r)["id"]); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})).Methods(http.MethodPost)
		v1.HandleFunc("/deliveries", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
			ds, err := n.Deliveries(a, r.URL.Query().Get("state"))
			if err != nil {
				return s.deny(r.Context(), a, "delivery", "", "list")
			}
			api.WriteJSON(w, http.StatusOK, map[string]any{"items": ds})
			return nil
		})).Methods(http.MethodGet)
		v1.HandleFunc("/deliveries/{id}/retry", s.authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
			if err := n.Retry(r.Context(), a, mux.Vars(r)["id"]); err != nil {
				return err
			}
			_ = s.cfg.Audit.Record(r.Context(), s.event(a, audit.Update, "delivery", mux.Vars(r)["id"], "retry"))
			w.WriteHeader(http.StatusNoContent)
			return nil
		})).Methods(http.MethodPost)
	}
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

func (s *Service) authed(h func(http.ResponseWriter, *http.Request, auth.Actor) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := api.Actor(r)
		if !ok {
			writeErr(w, problem.ErrUnauthorized)
			return
		}
		if err := h(w, r, a); err != nil {
			if p := problem.As(err); p.Status >= 500 {
				s.log.Error("escalation request failed", "method", r.Method, "err", err)
			}
			writeErr(w, err)
		}
	}
}

func reply(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, v)
	return nil
}

// maxBody bounds the JSON bodies this package reads.
const maxBody = 64 << 10

func writeErr(w http.ResponseWriter, err error) {
	p := problem.As(err)
	api.WriteJSON(w, p.Status, api.ErrorBody{Error: p.Message, Code: p.Code, Fields: p.Fields})
}
