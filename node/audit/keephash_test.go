package audit

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// TestRewriteKeepingTheHashIsDetected rewrites an event's content as well
// formed JSON and leaves its hash and every link alone: the chain of links
// still holds, so only Verify recomputing the event's own hash can see it
// (the mutation audit-verify-hash in bench/mutate).
func TestRewriteKeepingTheHashIsDetected(t *testing.T) {
	ctx := context.Background()
	l, d := chainOf(t, 4)
	raw, err := d.Get(ctx, key(2))
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.Object = "rewritten"
	if raw, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, key(2), raw); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(ctx); !errors.Is(err, ErrBroken) {
		t.Fatalf("rewritten event verified: %v", err)
	}
}
