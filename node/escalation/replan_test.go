package escalation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/difronte/difronte/testnet/poll"
)

// TestShortNoticeWindowsOpenOnTime drives the real scheduler goroutine on
// the fake clock: check-ins agreed at short notice, changed just before
// their time, or with a terminal that goes offline just before, open their
// missed case on time, whatever events arrive in between. The loop must be
// armed for the window's own instant (the fake clock's next waiter) before
// time moves: a later timer would be the bug.
func TestShortNoticeWindowsOpenOnTime(t *testing.T) {
	const grace = 30 * time.Minute
	tests := []struct {
		name   string
		online bool
		// change agrees or changes a check-in; it returns when the missed
		// case must open at the latest, and why.
		change func(r *rig) (time.Time, string)
	}{
		{"window created 1 minute ahead, terminal off", false, func(r *rig) (time.Time, string) {
			at := r.clock.Now().Add(time.Minute)
			r.sched.set(slotAt(at))
			r.replan("s1")
			return at, MissOffline
		}},
		{"window created 1 minute ahead, nobody calls", true, func(r *rig) (time.Time, string) {
			at := r.clock.Now().Add(time.Minute)
			r.sched.set(slotAt(at))
			r.replan("s1")
			return at.Add(15*time.Minute + grace), MissNotPlaced
		}},
		{"window edited to start sooner", false, func(r *rig) (time.Time, string) {
			r.sched.set(slotAt(r.clock.Now().Add(3 * time.Hour)))
			r.replan("s1")
			at := r.clock.Now().Add(2 * time.Minute)
			r.sched.set(slotAt(at))
			r.replan("s1")
			return at, MissOffline
		}},
		{"terminal goes offline 10 s before", true, func(r *rig) (time.Time, string) {
			at := r.clock.Now().Add(3 * time.Minute)
			r.sched.set(slotAt(at))
			r.replan("s1")
			r.clock.Set(at.Add(-10 * time.Second))
			r.pres.set("b1", false)
			r.replan("")
			return at, MissOffline
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.dir.people["b2"] = Person{ID: "b2", Name: "Bruno Neri", Municipality: "001272", Caregivers: []string{"cg1"}}
			r.pres.set("b1", tc.online)
			if err := r.svc.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer r.svc.Close()
			r.clock.Advance(time.Second)
			due, why := tc.change(r)
			// Just before it is due, a burst of unrelated events, each of
			// which re-arms the loop; none may push its timer past due.
			r.clock.Set(due.Add(-5 * time.Second))
			r.burst()
			poll.Until(t, 5*time.Second, "the loop armed for "+due.String(), func() bool {
				next, ok := r.clock.Next()
				return ok && next.Equal(due)
			})
			r.clock.Set(due)
			poll.Until(t, 5*time.Second, "the missed case", func() bool { return len(r.missed()) == 1 })
			c := r.missed()[0]
			if c.Reason != why || c.OpenedAt.After(due) {
				t.Fatalf("case %s opened at %s, want %s by %s", c.Reason, c.OpenedAt, why, due)
			}
			// A window the edit moved is dropped, never missed.
			r.advance(4 * time.Hour)
			if n := len(r.missed()); n != 1 {
				t.Fatalf("%d missed cases, want 1", n)
			}
		})
	}
}

// TestEditedScheduleFollowsAtOnce: a window not yet begun moves with its
// schedule and goes with it when the schedule is deleted; a window that
// has begun keeps what it started with.
func TestEditedScheduleFollowsAtOnce(t *testing.T) {
	r := newRig(t)
	at := t0.Add(time.Hour)
	r.sched.set(slotAt(at))
	r.replan("s1")
	r.sched.set(slotAt(at.Add(30 * time.Minute)))
	r.replan("s1")
	ws := r.svc.Windows(t0, t0.Add(3*time.Hour))
	if len(ws) != 2 || ws[0].State != WindowDropped || ws[1].State != WindowPending {
		t.Fatalf("windows after the edit %+v", ws)
	}
	r.sched.set(slotAt(at))
	r.replan("s1")
	if w := r.svc.Windows(at, at.Add(time.Minute)); len(w) != 1 || w[0].State != WindowPending {
		t.Fatalf("window moved back %+v", w)
	}
	r.sched.set()
	r.replan("s1")
	for _, w := range r.svc.Windows(t0, t0.Add(3*time.Hour)) {
		if w.State != WindowDropped {
			t.Fatalf("window of a deleted schedule %+v", w)
		}
	}
	r.advance(4 * time.Hour)
	if n := len(r.cases()); n != 0 {
		t.Fatalf("%d cases for a deleted schedule", n)
	}
}

func (f *fakeSchedules) set(slots ...Slot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slots = slots
}

func (p *presence) set(b string, online bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.online[b] = online
}

func (r *rig) replan(schedule string) {
	r.t.Helper()
	if err := r.svc.Replan(context.Background(), schedule); err != nil {
		r.t.Fatal(err)
	}
}

// burst is a run of unrelated events: calls and problems of another
// beneficiary, each of which wakes the loop.
func (r *rig) burst() {
	r.t.Helper()
	ctx := context.Background()
	for i := range 5 {
		id := fmt.Sprintf("x%d-%d", r.clock.Now().Unix(), i)
		for _, typ := range []EventType{CallPlaced, CallAnswered} {
			if err := r.svc.Record(ctx, Event{Type: typ, Beneficiary: "b2", Caregiver: "cg1", Call: id}); err != nil {
				r.t.Fatal(err)
			}
		}
		if _, err := r.svc.RecordOutcome(ctx, carla, Outcome{Key: id, Beneficiary: "b2", Call: id, Status: StatusProblem,
			Kind: "food", Urgency: "low", Actions: []string{ActAlertCaregivers}}); err != nil {
			r.t.Fatal(err)
		}
		r.svc.wake()
	}
}

// missed are the cases the node opened itself.
func (r *rig) missed() []Case {
	r.t.Helper()
	var out []Case
	for _, c := range r.cases() {
		if c.Source == "missed" {
			out = append(out, c)
		}
	}
	return out
}
