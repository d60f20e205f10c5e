package care

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// ErrStateByTransition refuses a terminal's state changed by an edit: a
// state changes only through MoveTerminal, which node/workshop calls
// after checking its transition table and the step's checklist.
var ErrStateByTransition = problem.New(http.StatusConflict, "terminal_state_by_transition",
	"a terminal's state changes only through POST /api/v1/terminals/{id}/transitions")

// migrateTerminals rewrites the states of the first lifecycle, once, with
// a history step by the node so the change is visible.
func migrateTerminals(ctx context.Context, tc *store.Collection[Terminal], now time.Time) error {
	old := tc.Filter(func(t *Terminal) bool { _, ok := oldTerminalStates[t.State]; return ok })
	for _, t := range old {
		t.State = oldTerminalStates[t.State]
		t.History = append(slices.Clone(t.History), StateChange{State: t.State, At: now, By: "system:migration"})
		if err := tc.Put(ctx, t); err != nil {
			return fmt.Errorf("migrate terminal %s: %w", t.ID, err)
		}
	}
	return nil
}

// CreateTerminal registers a device in any state (a coop enters the
// devices it already has); the state's later changes go through
// MoveTerminal.
//
// Only the admin enters a device past "recovered": a refurbisher's device
// starts at the beginning, so its wipe and every later step are recorded.
func (s *Service) CreateTerminal(ctx context.Context, a auth.Actor, t Terminal) (Terminal, error) {
	if a.Role == auth.Refurbisher && t.State != TerminalStates[0] {
		return Terminal{}, problem.Invalid(map[string]string{"state": "bad_choice"})
	}
	t.History = []StateChange{{State: t.State, At: s.clk.Now().UTC(), By: a.Username}}
	t.Workers = addWorker(t.Workers, a)
	return s.terminals.create(ctx, s.audit, a, t, s.clk.Now().UTC())
}

// UpdateTerminal changes a terminal's description. The state is kept (an
// empty one means "unchanged"; another one is refused with 409), and so
// is the beneficiary when a refurbisher saves: refurbishers may not read
// beneficiaries, so their form cannot carry the link, and a save must not
// drop it. The admin sets it, or the delivery step does.
func (s *Service) UpdateTerminal(ctx context.Context, a auth.Actor, id string, t Terminal) (Terminal, error) {
	s.terminals.mu.Lock()
	defer s.terminals.mu.Unlock()
	old, ok := s.terminals.col.Get(id)
	if ok && s.terminals.canWrite(a, &old) {
		if t.State == "" {
			t.State = old.State
		}
		if t.State != old.State {
			return Terminal{}, ErrStateByTransition
		}
		if a.Role != auth.Admin {
			t.Beneficiary = old.Beneficiary
		}
		// History is the server's: a client cannot rewrite it.
		t.History = old.History
		t.Workers = addWorker(old.Workers, a)
	}
	return s.terminals.updateLocked(ctx, s.audit, a, id, t, false, s.clk.Now().UTC())
}

// Move is one state change of a terminal, already allowed by the caller.
type Move struct {
	From, To string
	// Beneficiary is the terminal's beneficiary after the move when
	// SetBeneficiary is true (delivery sets it; a return clears it).
	Beneficiary    string
	SetBeneficiary bool
}

// MoveTerminal changes a terminal's state from m.From (409 if it is no
// longer there: two workers moved it at once) to m.To, with a history
// step, and audits it. Which moves are allowed is node/workshop's table.
func (s *Service) MoveTerminal(ctx context.Context, a auth.Actor, id string, m Move) (Terminal, error) {
	r := s.terminals
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.col.Get(id)
	if !ok {
		return Terminal{}, r.missing(ctx, s.audit, a, id, "move", true)
	}
	if !r.canWrite(a, &t) {
		return Terminal{}, r.deny(ctx, s.audit, a, id, "move")
	}
	if t.Archived || t.State != m.From {
		return Terminal{}, problem.New(http.StatusConflict, "terminal_state_changed", "the terminal is no longer in the state the move starts from")
	}
	now := s.clk.Now().UTC()
	t.State = m.To
	if m.SetBeneficiary {
		t.Beneficiary = m.Beneficiary
	}
	if err := problem.Invalid(s.checkTerminal(&t)); err != nil {
		return Terminal{}, err
	}
	t.History = append(slices.Clone(t.History), StateChange{State: m.To, At: now, By: a.Username})
	t.Workers = addWorker(t.Workers, a)
	t.UpdatedAt = now
	if err := r.col.Put(ctx, t); err != nil {
		return Terminal{}, fmt.Errorf("store terminal: %w", err)
	}
	if err := s.audit.Record(ctx, r.event(a, audit.Update, id, "state "+m.From+" -> "+m.To)); err != nil {
		return Terminal{}, fmt.Errorf("audit terminal: %w", err)
	}
	return t, nil
}
