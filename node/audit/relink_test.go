package audit

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// TestTamperWithRecomputedLinkIsDetected rewrites an event the way someone
// who knows the hash function would: the event gets a fresh hash, and its
// successor's link is patched to that hash and rehashed too. The chain only
// holds because every hash covers the previous one, so the event after the
// successor still points at the old hash and Verify must refuse.
func TestTamperWithRecomputedLinkIsDetected(t *testing.T) {
	ctx := context.Background()
	l, d := chainOf(t, 6)
	if _, err := l.Verify(ctx); err != nil {
		t.Fatalf("intact chain: %v", err)
	}

	get := func(seq uint64) Event {
		t.Helper()
		raw, err := d.Get(ctx, key(seq))
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	put := func(ev Event) {
		t.Helper()
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Put(ctx, key(ev.Seq), raw); err != nil {
			t.Fatal(err)
		}
	}

	ev := get(3)
	ev.Actor, ev.Detail = "someone-else", "rewritten"
	ev.Hash = hashEvent(&ev)
	put(ev)
	next := get(4)
	next.Prev = ev.Hash
	next.Hash = hashEvent(&next)
	put(next)

	n, err := l.Verify(ctx)
	if !errors.Is(err, ErrBroken) {
		t.Fatalf("rewritten event with recomputed links verified (%d events): %v", n, err)
	}
	if n != 5 {
		t.Fatalf("chain reported broken at event %d, want 5 (the first link the rewrite could not patch)", n)
	}
}
