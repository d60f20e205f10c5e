package escalation

import (
	"context"
	"fmt"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// ImportHistory stores past check-in windows (done or missed) and cases
// (opened in the past) as given: the demo coop's weeks of history, so a
// newcomer's dashboard is alive. Admins only; every record is audited as
// created by a. A window still to come, or an unknown state, kind or
// urgency, is refused before anything is stored.
func (s *Service) ImportHistory(ctx context.Context, a auth.Actor, ws []Window, cs []Case) error {
	if a.Role != auth.Admin {
		return s.deny(ctx, a, "window", "", "import")
	}
	now := s.now()
	bad := map[string]string{}
	for i, w := range ws {
		if w.ID == "" || !w.Start.Before(now) || (w.State != WindowDone && w.State != WindowMissed) {
			bad[fmt.Sprintf("windows[%d]", i)] = "bad_window"
		}
	}
	for i, c := range cs {
		if !c.OpenedAt.Before(now) || !slices.Contains(Kinds, c.Kind) || !slices.Contains(Urgencies, c.Urgency) ||
			(c.State != CaseOpen && c.State != CaseClosed) {
			bad[fmt.Sprintf("cases[%d]", i)] = "bad_case"
		}
	}
	if err := problem.Invalid(bad); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range ws {
		if err := s.windows.Put(ctx, w); err != nil {
			return fmt.Errorf("store window: %w", err)
		}
		if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "window", w.ID, "import "+w.State)); err != nil {
			return fmt.Errorf("audit window: %w", err)
		}
	}
	for _, c := range cs {
		if c.ID == "" {
			c.ID = newID()
		}
		if c.Actions == nil {
			c.Actions = []Action{}
		}
		if err := s.cases.Put(ctx, c); err != nil {
			return fmt.Errorf("store case: %w", err)
		}
		if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "case", c.ID, "import "+c.Source+" "+c.Kind)); err != nil {
			return fmt.Errorf("audit case: %w", err)
		}
	}
	return nil
}
