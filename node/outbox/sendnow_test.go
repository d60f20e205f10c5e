package outbox

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/store"
)

// TestSendNow: a message to a destination with nothing queued goes at
// once and is never stored; a refusal is an answer too; a destination
// that does not answer, or one with a backlog, is left to the queue
// (false), and with a backlog nothing is even tried, so a message sent
// at once never overtakes queued ones. The counters count each as the
// worker would.
func TestSendNow(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	clk := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	p := &peer{seen: NewSeen(st.Namespace("/seen")), online: true}
	o := open(t, st, clk, p)
	defer o.Close()

	if !o.SendNow(ctx, "prov", "now1", []byte("a"), time.Second) {
		t.Fatal("an online destination with nothing queued was not sent to at once")
	}
	if got := p.received(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("received %q", got)
	}
	if !o.SendNow(ctx, "prov", "now2", []byte("refuse"), time.Second) {
		t.Fatal("a refusal for good was not taken as an answer")
	}
	n := 0
	if err := store.Each(ctx, st.Namespace("/outbox"), queuePrefix, func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if s := o.Stats(); n != 0 || s.Queued != 0 || s.Delivered != 1 || s.Refused != 1 || s.Pending != 0 {
		t.Fatalf("after two messages sent at once: %d stored, %+v", n, s)
	}

	p.mu.Lock()
	p.online = false
	p.mu.Unlock()
	if o.SendNow(ctx, "prov", "now3", []byte("b"), time.Second) {
		t.Fatal("a destination that did not answer counted as sent")
	}
	if err := o.Enqueue(ctx, "prov", "q1", []byte("c")); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.online = true
	before := p.attempts
	p.mu.Unlock()
	if o.SendNow(ctx, "prov", "now4", []byte("d"), time.Second) {
		t.Fatal("a message was sent at once past a queued one")
	}
	p.mu.Lock()
	tried := p.attempts - before
	p.mu.Unlock()
	if tried != 0 {
		t.Fatalf("%d attempts past a backlog", tried)
	}
	if got := p.received(); len(got) != 1 {
		t.Fatalf("received %q", got)
	}
}
