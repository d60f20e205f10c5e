package clock_test

import (
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/clock/fakeclock"
)

func TestOrDefaultsToReal(t *testing.T) {
	if _, ok := clock.Or(nil).(clock.Real); !ok {
		t.Fatal("Or(nil) is not the real clock")
	}
	f := fakeclock.New(time.Unix(0, 0))
	if clock.Or(f) != clock.Clock(f) {
		t.Fatal("Or replaced a given clock")
	}
}

func TestRealTimerFires(t *testing.T) {
	done := make(chan struct{})
	clock.Real{}.AfterFunc(time.Millisecond, func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("real AfterFunc did not run")
	}
	select {
	case <-clock.After(clock.Real{}, time.Millisecond):
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
}

func TestSinceUsesTheClock(t *testing.T) {
	f := fakeclock.New(time.Unix(100, 0))
	f.Advance(90 * time.Second)
	if got := clock.Since(f, time.Unix(100, 0)); got != 90*time.Second {
		t.Fatalf("Since = %v", got)
	}
}
