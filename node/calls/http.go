package calls

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// Routes adds the calls API (/api/v1/calls/...), the sockets (/ws/...) and
// the calendar feed (/calls/feed/<token>.ics).
func (s *Service) Routes(r *httpx.Router) {
	root := r.Root()
	v1 := root.PathPrefix("/api/v1/calls").Subrouter()
	// The agenda and the schedule list answer admins and caregivers; any
	// other role is refused (and audited) rather than shown an empty list.
	v1.HandleFunc("/agenda", r.Role("call", s.getAgenda, auth.Admin, auth.Caregiver)).Methods(http.MethodGet)
	v1.HandleFunc("/schedules", r.Role("schedule", s.listSchedules, auth.Admin, auth.Caregiver)).Methods(http.MethodGet)
	v1.HandleFunc("/schedules", r.Authed(s.putSchedule)).Methods(http.MethodPost)
	v1.HandleFunc("/schedules/{id}", r.Authed(s.putSchedule)).Methods(http.MethodPut)
	v1.HandleFunc("/schedules/{id}", r.Authed(s.deleteSchedule)).Methods(http.MethodDelete)
	v1.HandleFunc("/coop", r.Role("call_settings", s.getCoop, auth.Admin)).Methods(http.MethodGet)
	v1.HandleFunc("/coop", r.Role("call_settings", s.putCoop, auth.Admin)).Methods(http.MethodPut)
	v1.HandleFunc("/settings/{beneficiary}", r.Authed(s.getSettings)).Methods(http.MethodGet)
	v1.HandleFunc("/settings/{beneficiary}", r.Authed(s.putSettings)).Methods(http.MethodPut)
	v1.HandleFunc("/terminals/{id}/pairing", r.Authed(s.startPairing)).Methods(http.MethodPost)
	v1.HandleFunc("/pair", r.Public(s.pair)).Methods(http.MethodPost)
	v1.HandleFunc("/devices", r.Authed(s.listDevices)).Methods(http.MethodGet)
	v1.HandleFunc("/devices/{id}", r.Authed(s.revokeDevice)).Methods(http.MethodDelete)
	v1.HandleFunc("/grants", r.Authed(s.listGrants)).Methods(http.MethodGet)
	v1.HandleFunc("/grants", r.Authed(s.issueGrant)).Methods(http.MethodPost)
	v1.HandleFunc("/grants/{id}", r.Authed(s.revokeGrant)).Methods(http.MethodDelete)
	v1.HandleFunc("/held", r.Authed(s.listHeld)).Methods(http.MethodGet)
	v1.HandleFunc("/held", r.Authed(s.importHeld)).Methods(http.MethodPost)
	v1.HandleFunc("/records", r.Authed(s.listRecords)).Methods(http.MethodGet)
	v1.HandleFunc("/requests", r.Role("call_request", s.listRequests, auth.Admin, auth.Caregiver)).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/close", r.Role("call_request", s.closeRequest, auth.Admin, auth.Caregiver)).Methods(http.MethodPost)
	v1.HandleFunc("/feed", r.Authed(s.newFeed)).Methods(http.MethodPost)
	v1.HandleFunc("/feed", r.Authed(s.revokeFeed)).Methods(http.MethodDelete)
	v1.HandleFunc("/ice", r.Authed(s.getICE)).Methods(http.MethodGet)
	root.HandleFunc("/calls/feed/{token}.ics", s.serveFeed).Methods(http.MethodGet)
	root.HandleFunc("/ws/calls", s.ServeCaregiver).Methods(http.MethodGet)
	root.HandleFunc("/ws/terminal", s.ServeTerminal).Methods(http.MethodGet)
}

// maxBody bounds the JSON bodies this package reads.
const maxBody = 256 << 10

func (s *Service) getAgenda(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	days := 14
	if d, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && d > 0 && d <= 62 {
		days = d
	}
	now := s.now()
	from := now.Add(-12 * time.Hour)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(s.Agenda(r.Context(), a, from, now.AddDate(0, 0, days)))})
	return nil
}

func (s *Service) listSchedules(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(s.Schedules(a, r.URL.Query().Get("beneficiary")))})
	return nil
}

func (s *Service) putSchedule(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var sc Schedule
	if err := httpx.DecodeJSON(w, r, &sc, maxBody); err != nil {
		return err
	}
	sc.ID = mux.Vars(r)["id"]
	out, err := s.SaveSchedule(r.Context(), a, sc)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if sc.ID == "" {
		code = http.StatusCreated
	}
	httpx.WriteJSON(w, code, out)
	return nil
}

func (s *Service) deleteSchedule(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := s.DeleteSchedule(r.Context(), a, mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) getSettings(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ben := mux.Vars(r)["beneficiary"]
	if !s.canSeeBeneficiary(a, ben) {
		return s.deny(r.Context(), a, "call_settings", ben, "read")
	}
	httpx.WriteJSON(w, http.StatusOK, s.Settings(ben))
	return nil
}

func (s *Service) putSettings(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var st Settings
	if err := httpx.DecodeJSON(w, r, &st, maxBody); err != nil {
		return err
	}
	st.Beneficiary = mux.Vars(r)["beneficiary"]
	out, err := s.SaveSettings(r.Context(), a, st)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// base is the URL the terminal opens, as the admin's browser reached us.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Service) startPairing(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := s.StartPairing(r.Context(), a, mux.Vars(r)["id"], base(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Service) pair(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	code := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1 // spaces and dashes people type
	}, in.Code)
	d, cred, err := s.Pair(r.Context(), code, httpx.RemoteIP(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]string{"device": d.ID, "credential": cred})
	return nil
}

func (s *Service) listDevices(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ds, err := s.Devices(r.Context(), a, r.URL.Query().Get("terminal"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(ds)})
	return nil
}

func (s *Service) revokeDevice(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := s.RevokeDevice(r.Context(), a, mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) listGrants(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	gs, err := s.Grants(r.Context(), a)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(gs)})
	return nil
}

func (s *Service) issueGrant(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var g Grant
	if err := httpx.DecodeJSON(w, r, &g, maxBody); err != nil {
		return err
	}
	out, err := s.IssueGrant(r.Context(), a, Grant{Beneficiary: g.Beneficiary, Node: g.Node, Caregiver: g.Caregiver, Name: g.Name, Expires: g.Expires})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Service) revokeGrant(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	g, err := s.RevokeGrant(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, g)
	return nil
}

func (s *Service) listHeld(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cg := a.CaregiverID
	if a.Role == auth.Admin {
		cg = r.URL.Query().Get("caregiver")
	} else if cg == "" {
		return s.deny(r.Context(), a, "held_grant", "", "list")
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(s.HeldGrants(cg))})
	return nil
}

func (s *Service) importHeld(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	h, err := s.ImportGrant(r.Context(), a, strings.TrimSpace(in.Token))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, h)
	return nil
}

func (s *Service) listRecords(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if a.Role != auth.Admin && a.Role != auth.Caregiver {
		return s.deny(r.Context(), a, "call_record", "", "list")
	}
	s.cfg.Audit.Note(s.event(a, audit.List, "call_record", "", ""))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": orEmpty(s.Records(a, r.URL.Query().Get("beneficiary")))})
	return nil
}

func (s *Service) getICE(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"ice": s.iceServers(a.Username)})
	return nil
}

// Calendar feeds: one per caregiver; making a new one revokes the old.

func (s *Service) newFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if a.CaregiverID == "" {
		return s.deny(r.Context(), a, "feed", "", "create")
	}
	if err := httpx.NoBody(w, r); err != nil { // the feed has no options
		return err
	}
	tok, hash := newToken(24)
	if err := s.feeds.Put(r.Context(), feed{Caregiver: a.CaregiverID, Hash: hash, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("store feed: %w", err)
	}
	if err := s.cfg.Audit.Record(r.Context(), s.event(a, audit.Create, "feed", a.CaregiverID, "")); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]string{"url": base(r) + "/calls/feed/" + tok + ".ics"})
	return nil
}

func (s *Service) revokeFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if a.CaregiverID == "" {
		return s.deny(r.Context(), a, "feed", "", "revoke")
	}
	if err := s.feeds.Put(r.Context(), feed{Caregiver: a.CaregiverID, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("store feed: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return s.cfg.Audit.Record(r.Context(), s.event(a, audit.Update, "feed", a.CaregiverID, "revoked"))
}

// FeedCaregiver resolves a feed token to its caregiver ("" if none).
func (s *Service) FeedCaregiver(tok string) string {
	if tok == "" || len(tok) > 64 {
		return ""
	}
	h := hashToken(tok)
	fs := s.feeds.Filter(func(f *feed) bool { return f.Hash != "" && f.Hash == h })
	if len(fs) == 0 {
		return ""
	}
	return fs[0].Caregiver
}

func (s *Service) serveFeed(w http.ResponseWriter, r *http.Request) {
	cg := s.FeedCaregiver(mux.Vars(r)["token"])
	if cg == "" {
		http.NotFound(w, r)
		return
	}
	now := s.now()
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	items := s.Agenda(ctx, auth.Actor{Username: "feed", Role: auth.Caregiver, CaregiverID: cg}, now.AddDate(0, 0, -7), now.AddDate(0, 0, 60))
	evs := make([]CalendarEvent, 0, len(items))
	for _, it := range items {
		evs = append(evs, CalendarEvent{
			UID:   fmt.Sprintf("%s-%s-%s@difronte", it.Node, it.Beneficiary, it.Start.UTC().Format("20060102T1504Z")),
			Start: it.Start, End: it.End, Summary: "Chiamata: " + it.Name,
		})
	}
	s.cfg.Audit.Note(audit.Event{Actor: "feed:" + cg, Action: audit.Export, Kind: "feed", Object: cg})
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = WriteICS(w, "Difronte", evs, now)
}

// orEmpty makes an empty list encode as [] rather than null, so clients
// can iterate an answer without a null check.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
