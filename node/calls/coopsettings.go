package calls

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// CoopSettings are the call settings of the whole coop, chosen by the
// admin on the calls page. A zero value keeps the node's default (the
// --call-request-wait flag, or DefaultRequestWait).
type CoopSettings struct {
	// RequestWaitMinutes is the time for calling back a terminal's
	// "Chiamatemi" before it opens a case.
	RequestWaitMinutes int `json:"request_wait_minutes"`
	// DefaultMinutes is the node's default, shown beside the choice
	// (read only).
	DefaultMinutes int `json:"default_minutes"`
}

// coopKey is the one key of the coop settings' collection.
const coopKey = "coop"

// MaxRequestWaitMinutes is the longest call-back time a coop may choose: a
// day, so that a forgotten "Chiamatemi" still becomes a case.
const MaxRequestWaitMinutes = 24 * 60

// defaultRequestWait is the node's own time, before the admin's choice.
func (s *Service) defaultRequestWait() time.Duration {
	if s.cfg.RequestWait > 0 {
		return s.cfg.RequestWait
	}
	return DefaultRequestWait
}

// requestWait is the coop's time for a call back: the admin's choice, or
// the node's default.
func (s *Service) requestWait() time.Duration {
	if st, ok := s.coop.Get(coopKey); ok && st.RequestWaitMinutes > 0 {
		return time.Duration(st.RequestWaitMinutes) * time.Minute
	}
	return s.defaultRequestWait()
}

// Coop returns the coop's call settings. Admins only.
func (s *Service) Coop(ctx context.Context, a auth.Actor) (CoopSettings, error) {
	if a.Role != auth.Admin {
		return CoopSettings{}, s.deny(ctx, a, "call_settings", coopKey, "read")
	}
	st, _ := s.coop.Get(coopKey)
	st.DefaultMinutes = int((s.defaultRequestWait() + time.Minute - 1) / time.Minute)
	return st, nil
}

// SaveCoop stores the coop's call settings. Admins only. A new call-back
// time counts for the requests made from then on: one already waiting
// keeps the time it was promised.
func (s *Service) SaveCoop(ctx context.Context, a auth.Actor, st CoopSettings) (CoopSettings, error) {
	if a.Role != auth.Admin {
		return CoopSettings{}, s.deny(ctx, a, "call_settings", coopKey, "save")
	}
	if st.RequestWaitMinutes < 0 || st.RequestWaitMinutes > MaxRequestWaitMinutes {
		return CoopSettings{}, problem.Invalid(map[string]string{"request_wait_minutes": "invalid"})
	}
	st.DefaultMinutes = 0
	if err := s.coop.Put(ctx, st); err != nil {
		return CoopSettings{}, fmt.Errorf("store coop call settings: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "call_settings", coopKey, "")); err != nil {
		return CoopSettings{}, err
	}
	return s.Coop(ctx, a)
}

func (s *Service) getCoop(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	st, err := s.Coop(r.Context(), a)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (s *Service) putCoop(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var st CoopSettings
	if err := httpx.DecodeJSON(w, r, &st, maxBody); err != nil {
		return err
	}
	out, err := s.SaveCoop(r.Context(), a, st)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
