package budget

import (
	"errors"
	"fmt"
	"github.com/difronte/difronte/federation/clock"
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Reason says which limit refused a stream. The set is fixed.
type Reason string

// The reasons, in the order of their wire codes (Code).
const (
	Sessions Reason = "sessions" // new streams per minute
	Bytes    Reason = "bytes"    // bytes per minute
	Streams  Reason = "streams"  // streams open at once
	Peers    Reason = "peers"    // the table is full of peers that still owe
)

// Reasons returns every Reason, in code order.
func Reasons() []Reason { return []Reason{Sessions, Bytes, Streams, Peers} }

// Code is the reason's number on the wire (1-based); 0 for an unknown one.
func (r Reason) Code() uint64 {
	for i, x := range Reasons() {
		if x == r {
			return uint64(i + 1)
		}
	}
	return 0
}

// ReasonOf is the Reason with the given wire code, or "" if there is none.
func ReasonOf(code uint64) Reason {
	if code == 0 || code > uint64(len(Reasons())) {
		return ""
	}
	return Reasons()[code-1]
}

// ErrRefused matches (errors.Is) every *Refusal.
var ErrRefused = errors.New("refused by the per-peer budget")

// Refusal is a stream refused by a limit, with the time after which the
// same request would be admitted.
type Refusal struct {
	Reason     Reason
	RetryAfter time.Duration
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%v: %s, retry after %v", ErrRefused, r.Reason, r.RetryAfter.Round(time.Second))
}

// Is makes every Refusal match ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Limits are one protocol's per-peer limits. A zero rate or burst means
// that dimension is unlimited.
type Limits struct {
	SessionsPerMinute float64 // sustained rate of new streams
	SessionBurst      int     // new streams allowed at once
	BytesPerMinute    float64 // sustained bytes, read and written
	ByteBurst         int     // bytes allowed at once; at least one message
	Concurrent        int     // streams open at once
}

// DefaultMaxPeers bounds a Table's entries when New is given zero.
const DefaultMaxPeers = 4096

// Table holds the budgets of every peer for one protocol.
type Table struct {
	lim      Limits
	now      func() time.Time
	maxPeers int

	mu    sync.Mutex
	peers map[peer.ID]*account
}

type account struct {
	sessions *rate.Limiter
	bytes    *rate.Limiter
	open     int
}

// New returns an empty table. clk is the clock the buckets refill by
// (nil: the real one); maxPeers bounds the entries (default
// DefaultMaxPeers).
func New(lim Limits, clk clock.Clock, maxPeers int) *Table {
	clk = clock.Or(clk)
	if maxPeers <= 0 {
		maxPeers = DefaultMaxPeers
	}
	return &Table{lim: lim, now: clk.Now, maxPeers: maxPeers, peers: make(map[peer.ID]*account)}
}

// Limits returns the table's limits.
func (t *Table) Limits() Limits { return t.lim }

func bucket(perMinute float64, burst int) *rate.Limiter {
	if perMinute <= 0 || burst <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perMinute/60), burst)
}

// full reports whether a is indistinguishable from a new account.
func (a *account) full(now time.Time) bool {
	return a.open == 0 &&
		a.sessions.TokensAt(now) >= float64(a.sessions.Burst()) &&
		a.bytes.TokensAt(now) >= float64(a.bytes.Burst())
}

// account returns p's account, making room for it if needed; nil when the
// table is full of peers that still owe.
func (t *Table) account(p peer.ID, now time.Time) *account {
	if a := t.peers[p]; a != nil {
		return a
	}
	if len(t.peers) >= t.maxPeers {
		for q, a := range t.peers {
			if a.full(now) {
				delete(t.peers, q)
			}
		}
		if len(t.peers) >= t.maxPeers {
			return nil
		}
	}
	a := &account{sessions: bucket(t.lim.SessionsPerMinute, t.lim.SessionBurst), bytes: bucket(t.lim.BytesPerMinute, t.lim.ByteBurst)}
	t.peers[p] = a
	return a
}

// Open admits a new stream from p, or refuses it with a *Refusal. The
// stream counts as open until the Session is closed.
func (t *Table) Open(p peer.ID) (*Session, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.account(p, now)
	switch {
	case a == nil:
		return nil, &Refusal{Reason: Peers, RetryAfter: time.Minute}
	case t.lim.Concurrent > 0 && a.open >= t.lim.Concurrent:
		return nil, &Refusal{Reason: Streams, RetryAfter: time.Second}
	case spent(a.bytes, now):
		return nil, &Refusal{Reason: Bytes, RetryAfter: wait(a.bytes, now, 1)}
	case !a.sessions.AllowN(now, 1):
		return nil, &Refusal{Reason: Sessions, RetryAfter: wait(a.sessions, now, 1)}
	}
	a.open++
	return &Session{t: t, a: a}, nil
}

// spent reports whether a byte bucket is empty or in debt.
func spent(l *rate.Limiter, now time.Time) bool {
	return l.Limit() != rate.Inf && l.TokensAt(now) <= 0
}

// wait is how long until l holds n tokens.
func wait(l *rate.Limiter, now time.Time, n float64) time.Duration {
	if l.Limit() == rate.Inf || l.Limit() <= 0 {
		return 0
	}
	need := n - l.TokensAt(now)
	if need <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(need / float64(l.Limit()) * float64(time.Second)))
}

// Peers returns how many peers the table remembers (for tests and metrics).
func (t *Table) Peers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.peers)
}

// Session is one admitted stream.
type Session struct {
	t      *Table
	a      *account
	closed bool
}

// Spend charges n bytes, read or written, to the peer's byte budget. It
// fails with a *Refusal once the budget is spent; the caller then stops
// the stream. A charge may overdraw by one message: the next must wait
// for the debt to be paid back.
func (s *Session) Spend(n int) error {
	if n <= 0 {
		return nil
	}
	now := s.t.now()
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	b := s.a.bytes
	if b.Limit() == rate.Inf {
		return nil
	}
	if spent(b, now) {
		return &Refusal{Reason: Bytes, RetryAfter: wait(b, now, 1)}
	}
	for n > 0 {
		// ReserveN goes into debt but refuses more than the burst at once.
		c := min(n, b.Burst())
		b.ReserveN(now, c)
		n -= c
	}
	return nil
}

// Close releases the stream; idempotent.
func (s *Session) Close() {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.a.open--
}
