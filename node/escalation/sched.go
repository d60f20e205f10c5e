package escalation

import (
	"context"
	"time"
)

// Start plans the check-in windows and runs the timers until Close.
func (s *Service) Start(ctx context.Context) error {
	if err := s.RunDue(ctx); err != nil {
		s.log.Error("first escalation run failed", "err", err)
	}
	s.started.Store(true)
	go s.loop()
	return nil
}

// Close stops the timers. Everything they need is in the store already.
func (s *Service) Close() error {
	s.once.Do(func() { close(s.stop) })
	if s.started.Load() {
		<-s.done
	}
	return nil
}

// Replan plans the check-in windows again at once and re-arms the timer:
// node calls it whenever a schedule, a terminal's pairing or its presence
// changes, so a check-in agreed a minute ahead has its window (and its
// timer) before the call returns. schedule names the schedule that changed
// ("" for none): its windows that have not begun yet follow it, moved when
// its times moved, dropped when it was deleted.
func (s *Service) Replan(ctx context.Context, schedule string) error {
	s.mu.Lock()
	err := s.plan(ctx, s.now(), schedule)
	s.mu.Unlock()
	s.wake()
	return err
}

// wake makes the loop recompute its next due time.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// replanEvery is how often the loop plans even when nothing changed, so
// slots that come within the horizon get their windows.
const replanEvery = 5 * time.Minute

// loop sleeps until the earliest stored timer or the next planning pass.
// Both are instants, not delays: a wake (any change) re-arms the timer for
// the same or an earlier instant, never pushes it later.
func (s *Service) loop() {
	defer close(s.done)
	ctx := context.Background()
	nextPlan := s.now().Add(replanEvery)
	for {
		at := nextPlan
		if next, ok := s.nextDue(); ok && next.Before(at) {
			at = next
		}
		now := s.now()
		t := s.cfg.Clock.NewTimer(max(at.Sub(now), 0))
		if s.now().Sub(now) > time.Millisecond {
			// The clock stepped while the timer was armed (a wall clock
			// corrected, a test's fake clock): it may fire late.
			t.Stop()
			continue
		}
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-s.kick:
			t.Stop()
			continue
		case <-t.C():
		}
		if err := s.RunDue(ctx); err != nil {
			s.log.Error("escalation run failed", "err", err)
		}
		nextPlan = s.now().Add(replanEvery)
	}
}

// nextDue is the earliest stored timer.
func (s *Service) nextDue() (time.Time, bool) {
	var next time.Time
	take := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	s.alerts.Filter(func(a *Alert) bool {
		if a.State == AlertActive {
			take(a.NextAt)
		}
		return false
	})
	s.windows.Filter(func(w *Window) bool {
		switch w.State {
		case WindowPending:
			take(w.Start)
		case WindowOpen:
			take(w.Deadline)
		}
		return false
	})
	return next, !next.IsZero()
}

// RunDue plans windows and runs every timer due now. The loop calls it; tests
// call it directly after moving a fake clock.
func (s *Service) RunDue(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.plan(ctx, now, ""); err != nil {
		return err
	}
	for _, w := range s.windows.Filter(func(w *Window) bool {
		return (w.State == WindowPending && !now.Before(w.Start)) || (w.State == WindowOpen && !now.Before(w.Deadline))
	}) {
		// A window can pass both its start and its deadline while the
		// node was down: run it twice.
		for range 2 {
			if err := s.runWindow(ctx, &w, now); err != nil {
				return err
			}
		}
	}
	// Bounded: each pass sends at most once per alert.
	for _, a := range s.alerts.Filter(func(a *Alert) bool {
		return a.State == AlertActive && !a.NextAt.IsZero() && !now.Before(a.NextAt)
	}) {
		if err := s.advance(ctx, &a); err != nil {
			return err
		}
	}
	return nil
}
