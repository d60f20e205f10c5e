package requests

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkInboxList fills a provider's node with 10,000 received
// requests and 2,000 cases and reports the p99 of listing each (the
// service call the routes answer from; goal 10 ms).
func BenchmarkInboxList(b *testing.B) {
	ctx := context.Background()
	r := newRig(b)
	now := time.Now().UTC()
	for i := range 10000 {
		req := Request{ID: fmt.Sprintf("rq-%08d", i), Home: homeID, Offerings: []OfferingRef{{Publisher: provID, ID: "off1", Name: "Assistenza"}},
			Need: Need{For: "self", Municipality: "015146", Start: "2026-12-20", Notes: "la mattina"}, State: StateOpen, Offers: []Offer{}, Created: now}
		if err := r.prov.inbox.Put(ctx, req); err != nil {
			b.Fatal(err)
		}
		if i < 2000 {
			c := Case{ID: fmt.Sprintf("pr-%08d", i), Request: req.ID, Home: homeID, Provider: provID, State: CaseActive, Created: now,
				Timeline: []Change{{At: now, To: CaseActive}}, Due: []Due{{Amount: 10, Unit: "ora"}}, Messages: []Message{}}
			if err := r.prov.cases.Put(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, kind := range []string{"requests", "cases"} {
		b.Run(kind, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				var n int
				if kind == "requests" {
					rs, _ := r.prov.Requests(ctx, manager)
					n = len(rs)
				} else {
					cs, _ := r.prov.Cases(ctx, manager)
					n = len(cs)
				}
				took = append(took, time.Since(start))
				if n == 0 {
					b.Fatal("empty list")
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
