package fleet

import (
	"context"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// PowerSaving is the coop's choice for all its terminals: switch each PC
// off once a window it was on for has ended more than Grace ago (never
// during a window or a call; docs/TERMINAL.md). The agents read it with
// their windows, so a change reaches every terminal at its next poll.
type PowerSaving struct {
	On           bool      `json:"on"`
	GraceMinutes int       `json:"grace_minutes"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// Bounds of the grace: long enough for a call that runs late, short enough
// to save something.
const (
	DefaultGraceMinutes = 15
	MinGraceMinutes     = 5
	MaxGraceMinutes     = 240
)

// powerKey is the one record of the setting.
const powerKey = "power_saving"

// PowerSaving returns the coop's setting (off, 15 minutes, when never set)
// and whether it was ever set: until then the agents keep what their own
// setup chose.
func (s *Service) PowerSaving() (PowerSaving, bool) {
	p, ok := s.power.Get(powerKey)
	if !ok {
		return PowerSaving{GraceMinutes: DefaultGraceMinutes}, false
	}
	return p, true
}

// ReadPowerSaving is the setting for an admin (audited).
func (s *Service) ReadPowerSaving(ctx context.Context, a auth.Actor) (PowerSaving, error) {
	if a.Role != auth.Admin {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: powerKey, Remote: a.Remote})
		return PowerSaving{}, problem.ErrForbidden
	}
	s.cfg.Audit.Note(audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Read, Kind: powerKey, Remote: a.Remote})
	p, _ := s.PowerSaving()
	return p, nil
}

// SetPowerSaving stores the admin's choice; the change is audited before
// it is acknowledged.
func (s *Service) SetPowerSaving(ctx context.Context, a auth.Actor, p PowerSaving) (PowerSaving, error) {
	if a.Role != auth.Admin {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: powerKey, Remote: a.Remote})
		return PowerSaving{}, problem.ErrForbidden
	}
	if p.GraceMinutes < MinGraceMinutes || p.GraceMinutes > MaxGraceMinutes {
		return PowerSaving{}, problem.Invalid(map[string]string{"grace_minutes": "out_of_range"})
	}
	p.UpdatedAt = s.cfg.Clock.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.power.Put(ctx, p); err != nil {
		return PowerSaving{}, err
	}
	detail := "off"
	if p.On {
		detail = "on"
	}
	if err := s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Update, Kind: powerKey, Detail: detail, Remote: a.Remote}); err != nil {
		return PowerSaving{}, err
	}
	return p, nil
}
