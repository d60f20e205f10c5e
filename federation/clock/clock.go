package clock

import "time"

// Clock tells the time and waits.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// NewTimer fires once, after d.
	NewTimer(d time.Duration) Timer
	// NewTicker fires every d.
	NewTicker(d time.Duration) Ticker
	// AfterFunc calls f once, after d. On the real clock f runs in its own
	// goroutine, as with time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a one-shot timer of a Clock. C is nil for timers made by
// AfterFunc.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
	// Reset makes the timer fire after d; it reports whether it was active.
	Reset(d time.Duration) bool
}

// Ticker fires repeatedly.
type Ticker interface {
	C() <-chan time.Time
	Stop()
	Reset(d time.Duration)
}

// Or returns c, or the real clock when c is nil: the zero value of a
// Config means production.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// After is a channel that receives once d has passed on c.
func After(c Clock, d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// Since is how long ago t was on c.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Real is the operating system's clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// NewTimer is time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// NewTicker is time.NewTicker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

// AfterFunc is time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Stop()                 { t.t.Stop() }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }

// Deadline is the wall-clock instant d from now, for network deadlines
// (SetDeadline and friends): the kernel enforces them against the
// operating system's clock whatever clock the node runs on.
func Deadline(d time.Duration) time.Time { return time.Now().Add(d) }

// Stopwatch measures elapsed real time, for metrics and log lines about
// how long something took; a fake clock never moves it.
type Stopwatch struct{ start time.Time }

// Start starts a stopwatch.
func Start() Stopwatch { return Stopwatch{start: time.Now()} }

// Elapsed is the real time since Start.
func (s Stopwatch) Elapsed() time.Duration { return time.Since(s.start) }
