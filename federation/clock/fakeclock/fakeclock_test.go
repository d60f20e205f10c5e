package fakeclock

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-ch:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestTimerFiresOnlyWhenDue(t *testing.T) {
	c := New(t0)
	tm := c.NewTimer(10 * time.Second)
	c.Advance(9 * time.Second)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("timer fired 1 s early")
	}
	c.Advance(time.Second)
	got, ok := fired(tm.C())
	if !ok || !got.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("timer: fired %v at %v, want at %v", ok, got, t0.Add(10*time.Second))
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported it active")
	}
}

func TestStopAndReset(t *testing.T) {
	c := New(t0)
	tm := c.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer reported it inactive")
	}
	c.Advance(time.Hour)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("stopped timer fired")
	}
	tm.Reset(time.Second)
	c.Advance(time.Second)
	if _, ok := fired(tm.C()); !ok {
		t.Fatal("reset timer did not fire")
	}
	if c.Waiters() != 0 {
		t.Fatalf("waiters left: %d", c.Waiters())
	}
}

func TestAfterFuncRunsInOrderBeforeAdvanceReturns(t *testing.T) {
	c := New(t0)
	var order []int
	var seen []time.Time
	c.AfterFunc(3*time.Second, func() { order = append(order, 3); seen = append(seen, c.Now()) })
	c.AfterFunc(1*time.Second, func() { order = append(order, 1); seen = append(seen, c.Now()) })
	c.AfterFunc(2*time.Second, func() { order = append(order, 2); seen = append(seen, c.Now()) })
	c.Advance(5 * time.Second)
	if len(order) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 3 {
		t.Fatalf("order %v", order)
	}
	for i, s := range seen {
		if want := t0.Add(time.Duration(i+1) * time.Second); !s.Equal(want) {
			t.Fatalf("call %d saw %v, want %v", i+1, s, want)
		}
	}
	if !c.Now().Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("now %v", c.Now())
	}
}

func TestAfterFuncMayArmAnother(t *testing.T) {
	c := New(t0)
	n := 0
	var again func()
	again = func() {
		n++
		if n < 3 {
			c.AfterFunc(time.Second, again)
		}
	}
	c.AfterFunc(time.Second, again)
	c.Advance(10 * time.Second)
	if n != 3 {
		t.Fatalf("chained calls: %d, want 3", n)
	}
}

func TestTickerKeepsPeriod(t *testing.T) {
	c := New(t0)
	tk := c.NewTicker(time.Second)
	for i := 1; i <= 3; i++ {
		c.Advance(time.Second)
		got, ok := fired(tk.C())
		if !ok || !got.Equal(t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("tick %d: %v %v", i, ok, got)
		}
	}
	tk.Stop()
	c.Advance(time.Minute)
	if _, ok := fired(tk.C()); ok {
		t.Fatal("stopped ticker ticked")
	}
}

func TestZeroDelayFiresAtOnce(t *testing.T) {
	c := New(t0)
	ran := false
	c.AfterFunc(0, func() { ran = true })
	if !ran {
		t.Fatal("AfterFunc(0) did not run")
	}
	if _, ok := fired(c.NewTimer(-time.Second).C()); !ok {
		t.Fatal("negative timer did not fire")
	}
}

func TestNextAndSetNeverBackwards(t *testing.T) {
	c := New(t0)
	if _, ok := c.Next(); ok {
		t.Fatal("Next with nothing armed")
	}
	c.NewTimer(time.Hour)
	c.NewTimer(time.Minute)
	if n, ok := c.Next(); !ok || !n.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Next %v %v", n, ok)
	}
	c.Set(t0.Add(-time.Hour))
	if !c.Now().Equal(t0) {
		t.Fatal("Set moved the clock backwards")
	}
}

func TestJumpBackAndForth(t *testing.T) {
	c := New(t0)
	tm := c.NewTimer(time.Hour)
	c.Jump(t0.Add(-time.Hour))
	if !c.Now().Equal(t0.Add(-time.Hour)) {
		t.Fatalf("after a jump back: %v", c.Now())
	}
	c.Advance(time.Hour)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("timer fired before its instant after a jump back")
	}
	c.Jump(t0.Add(time.Hour))
	if _, ok := fired(tm.C()); !ok || !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("jump forward: fired %v, now %v", ok, c.Now())
	}
}
