package care

import (
	"context"
	"sync"
	"testing"
)

// TestTerminalCopiesShareNothing: two copies of a stored terminal, each
// given a worker by append as a save and a move do (addWorker), do not
// write into the stored record's array, even when it has room to spare:
// the one written back keeps its own worker, and a copy changed in place
// leaves memory as it was written.
func TestTerminalCopiesShareNothing(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	workers := make([]string, 1, 4) // room to spare, as a decoded or grown slice may have
	workers[0] = "luca"
	if err := s.terminals.col.Put(ctx, Terminal{Meta: Meta{ID: "t1"}, Label: "T", Model: "M", State: "recovered", Workers: workers,
		History: []StateChange{{State: "recovered", By: "luca"}}}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.terminals.col.Get("t1")
	b, _ := s.terminals.col.Get("t1")
	a.Workers = append(a.Workers, "sara")
	b.Workers = append(b.Workers, "gino")
	if err := s.terminals.col.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.terminals.col.Get("t1"); len(got.Workers) != 2 || got.Workers[1] != "sara" {
		t.Fatalf("the stored workers %v, want [luca sara]", got.Workers)
	}
	for _, c := range s.terminals.col.Filter(func(*Terminal) bool { return true }) {
		c.Workers[0], c.History[0].By = "changed", "changed"
	}
	if got, _ := s.terminals.col.Get("t1"); got.Workers[0] != "luca" || got.History[0].By != "luca" {
		t.Fatalf("the stored terminal changed through a copy: %+v", got)
	}
}

// TestTerminalChangesDoNotCross: a terminal's move and an edit of it at the
// same moment both hold (the move's history step is not written over by
// the edit, which read the record before it), and of two moves from the
// same state exactly one is made (the other is told the state changed).
func TestTerminalChangesDoNotCross(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	states := []string{"recovered", "wiping", "installing", "configuring", "testing", "ready"}
	for round := range 20 {
		term, err := s.CreateTerminal(ctx, admin, Terminal{Label: "T" + string(rune('a'+round%26)), Model: "M", State: "recovered"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(states); i++ {
			var wg sync.WaitGroup
			errs := make([]error, 3)
			wg.Add(3)
			go func() {
				defer wg.Done()
				_, errs[0] = s.MoveTerminal(ctx, admin, term.ID, Move{From: states[i-1], To: states[i]})
			}()
			go func() {
				defer wg.Done()
				_, errs[1] = s.MoveTerminal(ctx, admin, term.ID, Move{From: states[i-1], To: states[i]})
			}()
			go func() {
				defer wg.Done()
				edit := term
				edit.State, edit.Notes = "", "round "+states[i]
				_, errs[2] = s.UpdateTerminal(ctx, admin, term.ID, edit)
			}()
			wg.Wait()
			if errs[2] != nil {
				t.Fatalf("edit: %v", errs[2])
			}
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d, %s: two moves from one state: errors %v and %v, want exactly one refused", round, states[i], errs[0], errs[1])
			}
		}
		got, err := s.Terminal(ctx, admin, term.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "ready" || len(got.History) != len(states) {
			t.Fatalf("round %d: state %s with %d history steps %v, want ready with %d", round, got.State, len(got.History), got.History, len(states))
		}
	}
}
