package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// Window is one agreed call window of a terminal.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Heartbeat is what a terminal's agent reports; the node keeps the last
// one of each terminal. It names no person.
type Heartbeat struct {
	Terminal string     `json:"terminal"`
	Device   string     `json:"device"`
	At       time.Time  `json:"at"` // the node's clock when received
	AgentAt  time.Time  `json:"agent_at"`
	AlarmAt  *time.Time `json:"alarm_at,omitempty"`
	RTC      bool       `json:"rtc"`
	Battery  Battery    `json:"battery"`
	Disk     Disk       `json:"disk"`
	Version  string     `json:"version,omitempty"`
}

// Battery is the terminal's battery (Percent -1: none).
type Battery struct {
	Percent     int     `json:"percent"`
	WearPercent float64 `json:"wear_percent"`
}

// Disk is the terminal's root file system.
type Disk struct {
	FreePercent float64 `json:"free_percent"`
}

// Health is a terminal's state as admins and caregivers see it.
type Health struct {
	Terminal   string     `json:"terminal"`
	Online     bool       `json:"online"`
	Agent      bool       `json:"agent"` // a heartbeat was ever received
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	NextWake   *time.Time `json:"next_wake,omitempty"`
	NextWindow *time.Time `json:"next_window,omitempty"`
	LastCall   *time.Time `json:"last_call,omitempty"`
	Battery    *Battery   `json:"battery,omitempty"`
	Disk       *Disk      `json:"disk,omitempty"`
	// Warnings: battery_low, battery_worn, disk_full, no_rtc, wake_not_set.
	Warnings []string `json:"warnings"`
}

// Config is what fleet needs from the node.
type Config struct {
	Store  store.Namespace
	Audit  *audit.Log
	Clock  clock.Clock
	Logger *slog.Logger
	// Device returns the device id and terminal of a credential, or a
	// problem (401 device_revoked / device_unknown).
	Device func(cred string) (device, terminal string, err error)
	// Beneficiary is the person a terminal is assigned to.
	Beneficiary func(terminal string) (string, bool)
	// Terminals are the live terminals assigned to a person.
	Terminals func(ben string) []string
	// Caregivers are the caregiver ids of a person.
	Caregivers func(ben string) []string
	// Windows are a person's agreed calls between two instants.
	Windows func(ben string, from, to time.Time) []Window
	// Online says the terminal's browser is connected; InCall that a call
	// rings or goes on; LastCall when the last call started (zero: none).
	Online   func(ben string) bool
	InCall   func(ben string) bool
	LastCall func(ben string) time.Time
	// OnlineWithin is how recent a heartbeat makes a terminal online
	// (default 12 min: two of the agent's 5-minute polls and some).
	OnlineWithin time.Duration
	// Executable is the file served as the agent (default: this process's
	// own executable, on linux/amd64 only).
	Executable string
}

// Service holds the terminals' heartbeats.
type Service struct {
	cfg   Config
	mu    sync.Mutex
	beats *store.Collection[Heartbeat]
	power *store.Collection[PowerSaving]
}

// Open loads the stored heartbeats.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnlineWithin <= 0 {
		cfg.OnlineWithin = 12 * time.Minute
	}
	s := &Service{cfg: cfg}
	l := store.NewLoader(ctx, cfg.Store)
	store.Load(l, &s.beats, "heartbeats", func(h *Heartbeat) string { return h.Terminal })
	store.Load(l, &s.power, "settings", func(*PowerSaving) string { return powerKey })
	if l.Err != nil {
		return nil, fmt.Errorf("fleet: %w", l.Err)
	}
	return s, nil
}

// WindowsFor answers a device: its terminal's windows from now (the one
// going on included) to two weeks ahead, and whether a call rings or goes
// on.
func (s *Service) WindowsFor(cred string) (terminal string, ws []Window, busy bool, err error) {
	_, terminal, err = s.cfg.Device(cred)
	if err != nil {
		return "", nil, false, err
	}
	ws = []Window{}
	ben, ok := s.cfg.Beneficiary(terminal)
	if !ok {
		return terminal, ws, false, nil // not assigned: nothing to wake for
	}
	now := s.cfg.Clock.Now()
	for _, w := range s.cfg.Windows(ben, now.Add(-6*time.Hour), now.Add(14*24*time.Hour)) {
		if w.End.After(now) {
			ws = append(ws, Window{Start: w.Start.UTC(), End: w.End.UTC()})
		}
	}
	return terminal, ws, s.cfg.InCall != nil && s.cfg.InCall(ben), nil
}

// Beat stores a device's heartbeat.
func (s *Service) Beat(ctx context.Context, cred string, hb Heartbeat) error {
	dev, terminal, err := s.cfg.Device(cred)
	if err != nil {
		return err
	}
	if bad := hb.check(); len(bad) > 0 {
		return problem.Invalid(bad)
	}
	hb.Terminal, hb.Device, hb.At = terminal, dev, s.cfg.Clock.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beats.Put(ctx, hb)
}

func (hb *Heartbeat) check() map[string]string {
	bad := map[string]string{}
	if hb.Battery.Percent < -1 || hb.Battery.Percent > 100 {
		bad["battery.percent"] = "invalid"
	}
	if w := hb.Battery.WearPercent; math.IsNaN(w) || w < 0 || w > 100 {
		bad["battery.wear_percent"] = "invalid"
	}
	if f := hb.Disk.FreePercent; math.IsNaN(f) || f < 0 || f > 100 {
		bad["disk.free_percent"] = "invalid"
	}
	if len(hb.Version) > 64 {
		bad["version"] = "too_long"
	}
	return bad
}

// Health is a terminal's health for an admin or a caregiver of the person
// the terminal is assigned to; the read is audited.
func (s *Service) Health(ctx context.Context, a auth.Actor, terminal string) (Health, error) {
	ben, assigned := s.cfg.Beneficiary(terminal)
	if !s.canSee(a, ben, assigned) {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: "terminal_health", Object: terminal, Remote: a.Remote})
		return Health{}, problem.ErrForbidden
	}
	s.cfg.Audit.Note(audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Read, Kind: "terminal_health", Object: terminal, Remote: a.Remote})
	return s.health(terminal, ben, assigned), nil
}

func (s *Service) canSee(a auth.Actor, ben string, assigned bool) bool {
	if a.Role == auth.Admin {
		return true
	}
	if a.Role != auth.Caregiver || a.CaregiverID == "" || !assigned || s.cfg.Caregivers == nil {
		return false
	}
	for _, c := range s.cfg.Caregivers(ben) {
		if c == a.CaregiverID {
			return true
		}
	}
	return false
}

func (s *Service) health(terminal, ben string, assigned bool) Health {
	now := s.cfg.Clock.Now()
	h := Health{Terminal: terminal, Warnings: []string{}}
	hb, ok := s.beats.Get(terminal)
	if assigned {
		h.Online = s.cfg.Online != nil && s.cfg.Online(ben)
		for _, w := range s.cfg.Windows(ben, now, now.Add(14*24*time.Hour)) {
			if w.Start.After(now) {
				t := w.Start.UTC()
				h.NextWindow = &t
				break
			}
		}
		if s.cfg.LastCall != nil {
			if t := s.cfg.LastCall(ben); !t.IsZero() {
				t = t.UTC()
				h.LastCall = &t
			}
		}
	}
	if !ok {
		return h
	}
	h.Agent = true
	seen := hb.At
	h.LastSeen = &seen
	h.Online = h.Online || now.Sub(hb.At) <= s.cfg.OnlineWithin
	b, d := hb.Battery, hb.Disk
	h.Battery, h.Disk = &b, &d
	if hb.AlarmAt != nil && hb.AlarmAt.After(now) {
		t := hb.AlarmAt.UTC()
		h.NextWake = &t
	}
	if b.Percent >= 0 && b.Percent < 20 {
		h.Warnings = append(h.Warnings, "battery_low")
	}
	if b.WearPercent >= 50 {
		h.Warnings = append(h.Warnings, "battery_worn")
	}
	if d.FreePercent < 10 {
		h.Warnings = append(h.Warnings, "disk_full")
	}
	if !hb.RTC {
		h.Warnings = append(h.Warnings, "no_rtc")
	} else if h.NextWindow != nil && (h.NextWake == nil || h.NextWake.After(*h.NextWindow)) {
		h.Warnings = append(h.Warnings, "wake_not_set")
	}
	return h
}

// SwitchedOn says whether a person's terminal runs the agent (known) and,
// if so, whether its PC reported since the given instant: a terminal that
// did not is "not switched on" (wake failed, unplugged), not merely
// offline.
func (s *Service) SwitchedOn(ben string, since time.Time) (known, on bool) {
	for _, hb := range s.beats.Filter(func(h *Heartbeat) bool { return true }) {
		if t, ok := s.cfg.Beneficiary(hb.Terminal); !ok || t != ben {
			continue
		}
		known = true
		if !hb.At.Before(since) {
			return true, true
		}
	}
	return known, false
}
