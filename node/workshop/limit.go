package workshop

import (
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
)

// limiter allows n requests per window per client address, in bounded
// memory: past maxAddrs addresses the expired windows are dropped, and if
// none is, new addresses share one window (refused together rather than
// growing without end).
type limiter struct {
	clk    clock.Clock
	n      int
	window time.Duration

	mu   sync.Mutex
	seen map[string]*slot
}

type slot struct {
	start time.Time
	n     int
}

const maxAddrs = 4096

func newLimiter(clk clock.Clock, n int, window time.Duration) *limiter {
	return &limiter{clk: clk, n: n, window: window, seen: map[string]*slot{}}
}

func (l *limiter) allow(addr string) bool {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.seen[addr]
	if s == nil {
		if len(l.seen) >= maxAddrs {
			for k, v := range l.seen {
				if now.Sub(v.start) >= l.window {
					delete(l.seen, k)
				}
			}
		}
		if len(l.seen) >= maxAddrs {
			addr = "\x00overflow"
			s = l.seen[addr]
		}
		if s == nil {
			s = &slot{start: now}
			l.seen[addr] = s
		}
	}
	if now.Sub(s.start) >= l.window {
		s.start, s.n = now, 0
	}
	s.n++
	return s.n <= l.n
}
