package fleet

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// maxBody bounds a heartbeat.
const maxBody = 16 << 10

// Routes adds the device routes (/api/v1/terminal/...), the health of a
// terminal and the install kit (/terminal/install.sh and the agent).
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/terminal/windows", r.Public(s.getWindows)).Methods(http.MethodGet)
	v1.HandleFunc("/terminal/heartbeat", r.Public(s.postHeartbeat)).Methods(http.MethodPost)
	v1.HandleFunc("/terminals/{id}/health", r.Role("terminal_health", s.getHealth, auth.Admin, auth.Caregiver)).Methods(http.MethodGet)
	v1.HandleFunc("/beneficiaries/{id}/terminal-health", r.Role("terminal_health", s.getPersonHealth, auth.Admin, auth.Caregiver)).Methods(http.MethodGet)
	v1.HandleFunc("/fleet/power-saving", r.Role("power_saving", s.getPower, auth.Admin)).Methods(http.MethodGet)
	v1.HandleFunc("/fleet/power-saving", r.Role("power_saving", s.putPower, auth.Admin)).Methods(http.MethodPut)
	root := r.Root()
	root.HandleFunc("/terminal/install.sh", s.serveScript).Methods(http.MethodGet)
	root.HandleFunc("/terminal/install/difronte", r.Public(s.serveAgent)).Methods(http.MethodGet, http.MethodHead)
}

// getWindows answers a device (Authorization: Bearer <device credential>).
func (s *Service) getWindows(w http.ResponseWriter, r *http.Request) error {
	terminal, ws, busy, err := s.WindowsFor(httpx.Token(r))
	if err != nil {
		return err
	}
	out := map[string]any{"terminal": terminal, "windows": ws, "busy": busy}
	if p, set := s.PowerSaving(); set {
		out["power_saving"] = p
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// beatIn is the heartbeat's body as the agent sends it.
type beatIn struct {
	At      time.Time  `json:"at"`
	AlarmAt *time.Time `json:"alarm_at"`
	RTC     bool       `json:"rtc"`
	Battery Battery    `json:"battery"`
	Disk    Disk       `json:"disk"`
	Version string     `json:"version"`
}

func (s *Service) postHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var in beatIn
	if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	err := s.Beat(r.Context(), httpx.Token(r), Heartbeat{AgentAt: in.At, AlarmAt: in.AlarmAt, RTC: in.RTC, Battery: in.Battery, Disk: in.Disk, Version: in.Version})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) getHealth(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	h, err := s.Health(r.Context(), a, mux.Vars(r)["id"])
	return httpx.Reply(w, http.StatusOK, h, err)
}

func (s *Service) getPersonHealth(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	hs, err := s.PersonHealth(r.Context(), a, mux.Vars(r)["id"])
	return httpx.Reply(w, http.StatusOK, map[string]any{"terminals": hs}, err)
}

func (s *Service) getPower(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := s.ReadPowerSaving(r.Context(), a)
	return httpx.Reply(w, http.StatusOK, p, err)
}

// powerIn is the setting as an admin sends it.
type powerIn struct {
	On           bool `json:"on"`
	GraceMinutes int  `json:"grace_minutes"`
}

func (s *Service) putPower(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in powerIn
	if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	p, err := s.SetPowerSaving(r.Context(), a, PowerSaving{On: in.On, GraceMinutes: in.GraceMinutes})
	return httpx.Reply(w, http.StatusOK, p, err)
}
