package escalation

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/testnet/poll"
)

func slotAt(start time.Time) Slot {
	return Slot{Schedule: "s1", Beneficiary: "b1", Caregiver: "cg1", Start: start, End: start.Add(15 * time.Minute)}
}

func TestMissedCheckins(t *testing.T) {
	start := t0.Add(time.Hour) // 10:00 UTC
	tests := []struct {
		name   string
		online bool
		run    func(r *rig)
		reason string // "" = no case
	}{
		{"terminal offline at the agreed time", false, func(r *rig) { r.advance(time.Hour) }, MissOffline},
		{"unanswered after retries", true, func(r *rig) {
			r.advance(time.Hour)
			for i := range 3 {
				r.call("c"+string(rune('a'+i)), false)
			}
		}, MissUnanswered},
		{"two unanswered then deadline", true, func(r *rig) {
			r.advance(time.Hour)
			r.call("ca", false)
			r.call("cb", false)
			r.advance(45 * time.Minute)
		}, MissUnanswered},
		{"call never placed in the window", true, func(r *rig) {
			r.advance(time.Hour)
			r.advance(44 * time.Minute)
			if len(r.cases()) != 0 {
				r.t.Fatal("case before the deadline")
			}
			r.advance(time.Minute)
		}, MissNotPlaced},
		{"Sto bene within the window", true, func(r *rig) {
			r.advance(time.Hour + 5*time.Minute)
			if err := r.svc.Record(context.Background(), Event{Type: ImFine, Beneficiary: "b1"}); err != nil {
				r.t.Fatal(err)
			}
			r.advance(3 * time.Hour)
		}, ""},
		{"Sto bene just before the agreed time", false, func(r *rig) {
			r.advance(50 * time.Minute)
			if err := r.svc.Record(context.Background(), Event{Type: ImFine, Beneficiary: "b1"}); err != nil {
				r.t.Fatal(err)
			}
			r.advance(3 * time.Hour)
		}, ""},
		{"answered call", true, func(r *rig) {
			r.advance(time.Hour + time.Minute)
			r.call("c1", true)
			r.advance(3 * time.Hour)
		}, ""},
		{"node restarted mid-window, down past the deadline", true, func(r *rig) {
			r.advance(time.Hour + 5*time.Minute) // window open
			r.svc.Close()
			r.clock.Advance(2 * time.Hour) // down
			r.open()
			if err := r.svc.RunDue(context.Background()); err != nil {
				r.t.Fatal(err)
			}
		}, MissNotPlaced},
		{"node restarted before the window, down through it", false, func(r *rig) {
			r.advance(10 * time.Minute) // window planned, pending
			r.sched.slots = nil         // the schedule source is gone after restart: the stored window is enough
			r.restart()
			r.advance(3 * time.Hour)
		}, MissOffline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.pres.online["b1"] = tc.online
			r.sched.slots = []Slot{slotAt(start)}
			if err := r.svc.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			tc.run(r)
			cs := r.cases()
			if tc.reason == "" {
				if len(cs) != 0 {
					t.Fatalf("case opened: %+v", cs[0])
				}
				return
			}
			if len(cs) != 1 || cs[0].Reason != tc.reason || cs[0].Source != "missed" {
				t.Fatalf("cases %+v, want one missed %s", cs, tc.reason)
			}
			// The whole chain runs: the first contact was alerted.
			if n := len(r.out.to("luca@example.org")); n != 1 {
				t.Fatalf("first contact got %d alerts", n)
			}
			// Running again never opens a second case.
			r.advance(time.Minute)
			r.restart()
			r.advance(time.Minute)
			if n := len(r.cases()); n != 1 {
				t.Fatalf("%d cases after rerun", n)
			}
		})
	}
}

// TestLoopWakesOnFakeClock drives the real scheduler goroutine: a missed
// check-in and an escalation happen by moving the clock only.
func TestLoopWakesOnFakeClock(t *testing.T) {
	r := newRig(t)
	r.sched.slots = []Slot{slotAt(t0.Add(time.Hour))}
	if err := r.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.svc.Close()
	poll.Until(t, 5*time.Second, "the window planned", func() bool { return len(r.svc.Windows(t0, t0.Add(2*time.Hour))) == 1 })
	step := func(d time.Duration, cond func() bool) {
		t.Helper()
		// The loop may not have been waiting on the clock yet when it
		// moved: nudge it a second at a time until the condition holds.
		r.clock.Advance(d)
		if !poll.Wait(5*time.Second, time.Millisecond, func() bool {
			if cond() {
				return true
			}
			r.clock.Advance(time.Second)
			return false
		}) {
			t.Fatal("condition not reached")
		}
	}
	step(time.Hour, func() bool { return len(r.cases()) == 1 })
	step(10*time.Minute, func() bool { return len(r.out.to("luca@example.org")) == 2 })
	step(20*time.Minute, func() bool { return len(r.out.to("ss@example.org")) == 1 })
}
