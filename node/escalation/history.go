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

// ImportCalls stores past calls as the node saw them and the outcomes
// recorded after them, for a history made before this node (the demo
// coop's weeks of work). An answered call outside any agreed window counts
// as a contact made, like one made live. Admins only; every call and
// outcome must be in the past and well formed, and an outcome must name a
// call of the import or one already seen.
func (s *Service) ImportCalls(ctx context.Context, a auth.Actor, calls []CallSeen, os []Outcome) error {
	if a.Role != auth.Admin {
		return s.deny(ctx, a, "outcome", "", "import")
	}
	now := s.now()
	bad := map[string]string{}
	ids := map[string]bool{}
	for i, c := range calls {
		if c.ID == "" || c.Beneficiary == "" || !c.At.Before(now) {
			bad[fmt.Sprintf("calls[%d]", i)] = "bad_call"
		}
		ids[c.ID] = true
	}
	for i := range os {
		o := &os[i]
		_, seen := s.calls.Get(o.Call)
		if len(o.Check()) > 0 || o.ID == "" || !o.At.Before(now) || !(ids[o.Call] || seen) {
			bad[fmt.Sprintf("outcomes[%d]", i)] = "bad_outcome"
		}
	}
	if err := problem.Invalid(bad); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range calls {
		if err := s.calls.Put(ctx, c); err != nil {
			return fmt.Errorf("store call: %w", err)
		}
	}
	for _, o := range os {
		if err := s.outcomes.Put(ctx, o); err != nil {
			return fmt.Errorf("store outcome: %w", err)
		}
		if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "outcome", o.ID, "import "+o.Status)); err != nil {
			return fmt.Errorf("audit outcome: %w", err)
		}
	}
	return nil
}
