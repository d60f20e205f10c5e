package care

import (
	"context"
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
