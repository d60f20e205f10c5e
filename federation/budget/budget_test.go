package budget

import (
	"errors"
	"fmt"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func refusedFor(t *testing.T, err error, want Reason) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || !errors.Is(err, ErrRefused) || r.Reason != want {
		t.Fatalf("got %v, want a refusal for %s", err, want)
	}
	if r.RetryAfter < 0 {
		t.Fatalf("retry after %v", r.RetryAfter)
	}
}

func TestSessionsRefillByTheClock(t *testing.T) {
	c := fakeclock.New(time.Unix(0, 0))
	tb := New(Limits{SessionsPerMinute: 6, SessionBurst: 3}, c, 0)
	p := peer.ID("a")
	for i := range 3 {
		s, err := tb.Open(p)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		s.Close()
	}
	_, err := tb.Open(p)
	refusedFor(t, err, Sessions)
	if r := err.(*Refusal); r.RetryAfter != 10*time.Second {
		t.Fatalf("retry after %v, want 10s", r.RetryAfter)
	}
	if _, err := tb.Open(peer.ID("b")); err != nil {
		t.Fatalf("another peer refused: %v", err)
	}
	c.Advance(10 * time.Second)
	if _, err := tb.Open(p); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	tb := New(Limits{Concurrent: 2}, nil, 0)
	p := peer.ID("a")
	s1, _ := tb.Open(p)
	if _, err := tb.Open(p); err != nil {
		t.Fatal(err)
	}
	_, err := tb.Open(p)
	refusedFor(t, err, Streams)
	s1.Close()
	s1.Close() // idempotent: frees one slot, not two
	if _, err := tb.Open(p); err != nil {
		t.Fatal(err)
	}
	_, err = tb.Open(p)
	refusedFor(t, err, Streams)
}

func TestBytesOverdrawOneMessage(t *testing.T) {
	c := fakeclock.New(time.Unix(0, 0))
	tb := New(Limits{BytesPerMinute: 600, ByteBurst: 100}, c, 0)
	p := peer.ID("a")
	s, err := tb.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Spend(60); err != nil {
		t.Fatal(err)
	}
	if err := s.Spend(250); err != nil { // overdraws: -210
		t.Fatal(err)
	}
	refusedFor(t, s.Spend(1), Bytes)
	s.Close()
	_, err = tb.Open(p)
	refusedFor(t, err, Bytes)
	if r := err.(*Refusal); r.RetryAfter != 21100*time.Millisecond { // 211 bytes at 10 B/s
		t.Fatalf("retry after %v", r.RetryAfter)
	}
	c.Advance(21100 * time.Millisecond)
	if _, err := tb.Open(p); err != nil {
		t.Fatal(err)
	}
}

func TestUnlimited(t *testing.T) {
	tb := New(Limits{}, nil, 0)
	s, err := tb.Open(peer.ID("a"))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := s.Spend(1 << 30); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		if _, err := tb.Open(peer.ID("a")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBoundedMemory: a table never holds more than maxPeers; peers whose
// buckets refilled are forgotten to make room, and while every entry still
// owes, a new peer is refused rather than admitted uncounted.
func TestBoundedMemory(t *testing.T) {
	c := fakeclock.New(time.Unix(0, 0))
	tb := New(Limits{SessionsPerMinute: 60, SessionBurst: 1}, c, 8)
	for i := range 8 {
		s, err := tb.Open(peer.ID(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	_, err := tb.Open(peer.ID("new"))
	refusedFor(t, err, Peers)
	// The refused peer left no trace; the others still owe their session.
	if tb.Peers() != 8 {
		t.Fatalf("%d peers", tb.Peers())
	}
	_, err = tb.Open(peer.ID("0"))
	refusedFor(t, err, Sessions)
	c.Advance(time.Second)
	if _, err := tb.Open(peer.ID("new")); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
	if tb.Peers() != 1 {
		t.Fatalf("%d peers after forgetting the refilled ones", tb.Peers())
	}
}

func TestReasonCodes(t *testing.T) {
	for i, r := range Reasons() {
		if r.Code() != uint64(i+1) || ReasonOf(r.Code()) != r {
			t.Fatalf("%s: code %d", r, r.Code())
		}
	}
	if ReasonOf(0) != "" || ReasonOf(99) != "" || Reason("x").Code() != 0 {
		t.Fatal("unknown codes")
	}
}
