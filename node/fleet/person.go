package fleet

import (
	"context"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// PersonHealth is the health of the terminals assigned to a person, for an
// admin or one of the person's caregivers (their agenda, home and the
// person's page): one audited read naming the person's opaque id.
func (s *Service) PersonHealth(ctx context.Context, a auth.Actor, ben string) ([]Health, error) {
	if !s.canSee(a, ben, ben != "") {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: "terminal_health", Object: ben, Remote: a.Remote})
		return nil, problem.ErrForbidden
	}
	var ids []string
	if s.cfg.Terminals != nil {
		ids = s.cfg.Terminals(ben)
	}
	slices.Sort(ids)
	out := make([]Health, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.health(id, ben, true))
	}
	s.cfg.Audit.Note(audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.List, Kind: "terminal_health", Object: ben, Remote: a.Remote})
	return out, nil
}

// Healths is the health of many terminals for the admin's list of
// terminals: one audited list.
func (s *Service) Healths(ctx context.Context, a auth.Actor, ids []string) (map[string]Health, error) {
	if a.Role != auth.Admin {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: "terminal_health", Remote: a.Remote})
		return nil, problem.ErrForbidden
	}
	out := make(map[string]Health, len(ids))
	for _, id := range ids {
		ben, ok := s.cfg.Beneficiary(id)
		out[id] = s.health(id, ben, ok)
	}
	s.cfg.Audit.Note(audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.List, Kind: "terminal_health", Remote: a.Remote})
	return out, nil
}
