// Package fakeclock is the one fake of clock.Clock: time moves only when a
// test says so, and every timer, ticker and delayed call due by then fires
// in order. Only tests, benchmarks and development testnets import it.
package fakeclock

import (
	"sort"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
)

// Clock is a clock.Clock that moves only on Advance or Set.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	seq     int64
	waiters []*waiter
}

var _ clock.Clock = (*Clock)(nil)

// New starts a fake clock at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

type waiter struct {
	c      *Clock
	at     time.Time
	seq    int64 // firing order among waiters due at the same instant
	period time.Duration
	ch     chan time.Time
	fn     func()
	active bool
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer fires once Advance reaches now+d.
func (c *Clock) NewTimer(d time.Duration) clock.Timer {
	return c.add(d, 0, make(chan time.Time, 1), nil)
}

// NewTicker fires every d of fake time.
func (c *Clock) NewTicker(d time.Duration) clock.Ticker {
	if d <= 0 {
		panic("fakeclock: non-positive ticker interval")
	}
	return (*ticker)(c.add(d, d, make(chan time.Time, 1), nil))
}

// AfterFunc calls f once Advance reaches now+d. f runs in the goroutine
// that calls Advance or Set, after the clock has moved and outside its
// lock, so a test knows f has run when Advance returns.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.add(d, 0, nil, f)
}

func (c *Clock) add(d, period time.Duration, ch chan time.Time, fn func()) *waiter {
	c.mu.Lock()
	w := &waiter{c: c, period: period, ch: ch, fn: fn}
	c.arm(w, d)
	c.mu.Unlock()
	if d <= 0 {
		c.Advance(0)
	}
	return w
}

// arm schedules w at now+d; c.mu is held.
func (c *Clock) arm(w *waiter, d time.Duration) {
	c.seq++
	w.at, w.seq = c.now.Add(d), c.seq
	if !w.active {
		w.active = true
		c.waiters = append(c.waiters, w)
	}
}

// Advance moves the clock forward by d and fires, in time order, every
// waiter due by then. A ticker due several times fires once per period
// (its channel keeps only the first undelivered tick, as time.Ticker's).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.Set(target)
}

// Set moves the clock to t (never backwards) and fires what is due.
func (c *Clock) Set(t time.Time) {
	for {
		c.mu.Lock()
		w := c.nextDue(t)
		if w == nil {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		if w.at.After(c.now) {
			c.now = w.at
		}
		now := c.now
		if w.period > 0 {
			w.at, c.seq = w.at.Add(w.period), c.seq+1
			w.seq = c.seq
		} else {
			c.remove(w)
		}
		c.mu.Unlock()
		if w.fn != nil {
			w.fn()
		} else {
			select {
			case w.ch <- now:
			default:
			}
		}
	}
}

// Jump sets the clock to t, backwards too, as when a wall clock is stepped
// (an NTP correction): tests of expiry step back to before a deadline
// after checking past it. Moving forward, it fires what is due, as Set;
// moving back, armed waiters keep their instants and wait longer.
func (c *Clock) Jump(t time.Time) {
	c.mu.Lock()
	back := t.Before(c.now)
	if back {
		c.now = t
	}
	c.mu.Unlock()
	if !back {
		c.Set(t)
	}
}

// nextDue is the earliest active waiter due at or before t; c.mu is held.
func (c *Clock) nextDue(t time.Time) *waiter {
	sort.Slice(c.waiters, func(i, j int) bool {
		a, b := c.waiters[i], c.waiters[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.seq < b.seq
	})
	if len(c.waiters) == 0 || c.waiters[0].at.After(t) {
		return nil
	}
	return c.waiters[0]
}

// remove takes w off the clock; c.mu is held.
func (c *Clock) remove(w *waiter) {
	if !w.active {
		return
	}
	w.active = false
	for i, o := range c.waiters {
		if o == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

// Waiters is how many timers, tickers and delayed calls are armed: a test
// can wait until the code under test has armed its timer before advancing.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Next is when the earliest armed waiter fires, and false when none is.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nextDue(time.Unix(1<<62, 0)) == nil {
		return time.Time{}, false
	}
	return c.waiters[0].at, true
}

func (w *waiter) C() <-chan time.Time { return w.ch }

func (w *waiter) Stop() bool {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	was := w.active
	w.c.remove(w)
	return was
}

func (w *waiter) Reset(d time.Duration) bool {
	w.c.mu.Lock()
	was := w.active
	w.c.arm(w, d)
	w.c.mu.Unlock()
	if d <= 0 {
		w.c.Advance(0)
	}
	return was
}

type ticker waiter

func (t *ticker) C() <-chan time.Time { return t.ch }
func (t *ticker) Stop()               { (*waiter)(t).Stop() }
func (t *ticker) Reset(d time.Duration) {
	w := (*waiter)(t)
	w.c.mu.Lock()
	w.period = d
	w.c.arm(w, d)
	w.c.mu.Unlock()
}
