package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// peer is a fake destination: offline until told, keeping what it got
// through a Seen, as a receiver does.
type peer struct {
	mu       sync.Mutex
	online   bool
	attempts int
	got      []string
	seen     *Seen
	loseAck  bool // handle the message but fail the answer once
}

func (p *peer) send(ctx context.Context, to, id string, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts++
	if !p.online {
		return errors.New("offline")
	}
	if string(payload) == "refuse" {
		return ErrRefused
	}
	_, err := p.seen.Handle(ctx, "home", id, func() error { p.got = append(p.got, string(payload)); return nil })
	if err != nil {
		return err
	}
	if p.loseAck {
		p.loseAck = false
		return errors.New("answer lost")
	}
	return nil
}

func (p *peer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

func open(t *testing.T, st *store.Store, clk *fakeclock.Clock, p *peer) *Outbox {
	t.Helper()
	o, err := Open(context.Background(), Config{Store: st.Namespace("/outbox"), Clock: clk, Send: p.send,
		MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o.Start()
	return o
}

// TestOutboxRetriesAndWakes: messages to an offline peer wait, back off,
// survive a restart, go out in order on Wake, each once; an id queued
// twice is sent once; a lost answer does not make the receiver handle a
// message twice.
func TestOutboxRetriesAndWakes(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	clk := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	p := &peer{seen: NewSeen(st.Namespace("/seen"))}
	o := open(t, st, clk, p)
	for i := range 5 {
		if err := o.Enqueue(ctx, "prov", fmt.Sprintf("id%d", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Enqueue(ctx, "prov", "id0", []byte("again")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "a first attempt", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.attempts >= 1 })
	for range 20 { // backoff is bounded: the attempts keep coming
		clk.Advance(8 * time.Second)
	}
	if got := o.Pending("prov"); got != 5 {
		t.Fatalf("pending %d, want 5", got)
	}
	o.Close()

	p.mu.Lock()
	p.online, p.loseAck = true, true
	p.mu.Unlock()
	o = open(t, st, clk, p) // reloaded from the store
	defer o.Close()
	o.Wake("prov")
	poll.Until(t, 5*time.Second, "the queue to empty", func() bool {
		clk.Advance(time.Second)
		return o.Pending("") == 0
	})
	if got := p.received(); fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("received %v, want each once in order", got)
	}
	if s := o.Stats(); s.Delivered != 5 || s.Failed == 0 {
		t.Fatalf("stats %+v", s)
	}
	o.Close()
	o = open(t, st, clk, p) // delivered messages are gone from the store
	if got := o.Pending(""); got != 0 {
		t.Fatalf("%d delivered messages came back after a restart", got)
	}
	o.Close()
}

func TestOutboxDropsRefused(t *testing.T) {
	st := store.NewMemory()
	clk := fakeclock.New(time.Now())
	p := &peer{online: true, seen: NewSeen(st.Namespace("/seen"))}
	o := open(t, st, clk, p)
	defer o.Close()
	if err := o.Enqueue(context.Background(), "prov", "r1", []byte("refuse")); err != nil {
		t.Fatal(err)
	}
	if err := o.Enqueue(context.Background(), "prov", "ok1", []byte("fine")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "both handled", func() bool { return o.Pending("") == 0 })
	if s := o.Stats(); s.Refused != 1 || s.Delivered != 1 {
		t.Fatalf("stats %+v", s)
	}
	for _, bad := range [][2]string{{"", "x"}, {"p", ""}, {"a/b", "x"}} {
		if err := o.Enqueue(context.Background(), bad[0], bad[1], nil); err == nil {
			t.Errorf("enqueue %q accepted", bad)
		}
	}
}
