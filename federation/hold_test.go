package federation

import (
	"context"
	"fmt"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// TestHoldGauge: the hold stays the constant while duplicates are few,
// doubles per entry up to sixteen times it while more than 0.6 arrive per
// entry, and comes back to the constant once they stop.
func TestHoldGauge(t *testing.T) {
	const base = 10 * time.Millisecond
	g := newHoldGauge()
	for i := range 50 {
		if h := g.first(base); h != base {
			t.Fatalf("entry %d with a duplicate every fourth: hold %v, want %v", i, h, base)
		}
		if i%4 == 0 {
			g.duplicate() // 0.25 per entry: under the threshold
		}
	}
	var holds []time.Duration
	for range 30 {
		g.duplicate()
		g.duplicate()
		holds = append(holds, g.first(base))
	}
	for i := 1; i < len(holds); i++ {
		if holds[i] < holds[i-1] {
			t.Fatalf("holds fell while two duplicates came per entry: %v", holds)
		}
	}
	if last := holds[len(holds)-1]; last != 16*base {
		t.Fatalf("hold after 30 entries with two duplicates each: %v, want %v (the bound)", last, 16*base)
	}
	var h time.Duration
	for range 40 {
		h = g.first(base)
	}
	if h != base {
		t.Fatalf("hold 40 entries after the duplicates stopped: %v, want %v", h, base)
	}
}

// TestRelayScalesItsHold: a relay given a gauge holds the forward of an
// entry from its publisher for the gauge's hold, not the constant.
func TestRelayScalesItsHold(t *testing.T) {
	var slept []time.Duration
	fx := newRelayFixture(t, time.Millisecond, func(_ context.Context, d time.Duration) { slept = append(slept, d) })
	fx.r.holds = newHoldGauge()
	for i := range 8 {
		pub := newKey(t)
		e := signedOffering(t, pub, fmt.Sprintf("6%07d-1111-4111-8111-111111111111", i))
		if got := fx.r.validate(context.Background(), peerOf(t, pub), gossipMsg(e, peerOf(t, pub), peerOf(t, pub))); got != pubsub.ValidationAccept {
			t.Fatalf("entry %d: %v", i, got)
		}
		fx.r.holds.duplicate()
		fx.r.holds.duplicate()
	}
	if len(slept) != 8 || slept[0] != time.Millisecond || slept[7] != 16*time.Millisecond {
		t.Fatalf("holds %v: want 1 ms first, then doubling to 16 ms while two duplicates come per entry", slept)
	}
}

// TestTracerCountsDuplicates: pubsub's duplicate events reach the gauge.
func TestTracerCountsDuplicates(t *testing.T) {
	m := newMeshTracer()
	m.DuplicateMessage(nil) // no gauge: nothing to count, no panic
	m.holds = newHoldGauge()
	m.DuplicateMessage(nil)
	m.DuplicateMessage(nil)
	if m.holds.dups != 2 {
		t.Fatalf("gauge counted %v duplicates, want 2", m.holds.dups)
	}
}
