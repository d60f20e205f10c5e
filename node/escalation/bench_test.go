package escalation

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRunDueIdle measures one scheduler pass over a coop's stored
// timers when nothing is due (the common case: 5,000 planned check-in
// windows, 500 active alerts), against a baseline scan of the same windows
// in a plain slice with the same due test. The ratio is the cost of the
// collections' copies and locking.
func BenchmarkRunDueIdle(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	future := t0.Add(48 * time.Hour)
	var plain []Window
	for i := range 5000 {
		w := Window{ID: fmt.Sprintf("s%05d", i), Beneficiary: "b1", Start: future, Deadline: future.Add(time.Hour), State: WindowPending}
		if err := r.svc.windows.Put(ctx, w); err != nil {
			b.Fatal(err)
		}
		plain = append(plain, w)
	}
	for i := range 500 {
		if err := r.svc.alerts.Put(ctx, Alert{ID: fmt.Sprintf("a%04d", i), State: AlertActive, NextAt: future}); err != nil {
			b.Fatal(err)
		}
	}
	r.svc.cfg.Schedules = nil
	var base time.Duration
	b.Run("baseline_slice_scan", func(b *testing.B) {
		now := t0
		start := time.Now()
		for b.Loop() {
			n := 0
			for i := range plain {
				if plain[i].State == WindowPending && !now.Before(plain[i].Start) {
					n++
				}
			}
			if n != 0 {
				b.Fatal("due")
			}
		}
		base = time.Since(start) / time.Duration(b.N)
	})
	b.Run("RunDue", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if err := r.svc.RunDue(ctx); err != nil {
				b.Fatal(err)
			}
		}
		per := time.Since(start) / time.Duration(b.N)
		if base > 0 {
			b.ReportMetric(float64(per)/float64(base), "x_baseline")
		}
		b.ReportMetric(float64(per.Microseconds()), "us/pass")
	})
}
