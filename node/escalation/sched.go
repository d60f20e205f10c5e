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

// wake makes the loop recompute its next due time.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// replanEvery bounds how long the loop sleeps, so newly agreed schedules are
// planned even when no timer is due.
const replanEvery = 5 * time.Minute

func (s *Service) loop() {
	defer close(s.done)
	ctx := context.Background()
	for {
		d := replanEvery
		if next, ok := s.nextDue(); ok {
			if w := next.Sub(s.now()); w < d {
				d = max(w, 0)
			}
		}
		t := s.cfg.Clock.NewTimer(d)
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
	if err := s.plan(ctx, now); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
