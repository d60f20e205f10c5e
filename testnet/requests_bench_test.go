package testnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/stream"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// outcomeCall is the outcome relay's exchange (federation.OutcomeLink's),
// called from a node's own host.
var outcomeCall = stream.Exchange{Protocol: federation.OutcomeProtocolID, Name: "outcome",
	MaxRequest: federation.MaxOutcomeFrame, MaxResponse: federation.MaxOutcomeFrame, Timeout: 20 * time.Second}

// deliveryRun is the figures of one measureDelivery.
type deliveryRun struct {
	request, outcome []time.Duration
	queued           uint64 // requests that went through A's outbox, not at once
}

// durPct is the p-th percentile of ds (sorted in place).
func durPct(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// measureDelivery starts a citizen's node A and a provider's node P,
// whole, on loopback TCP with libp2p's default security, and times n
// times, interleaved: a request from the citizen's POST (the service
// call) until it is in P's inbox, over /difronte/requests/1 (sent at
// once: P is connected and nothing is queued for it); and, as the baseline, the outcome relay: one
// check-in outcome from A to P over /difronte/outcome/1, answered by P's
// escalation (refused for want of a grant, after its audit event is
// stored: one exchange and one synced write). A pause before each
// exchange lets both start from an idle node, as a citizen's request
// does, and keeps both within their per-peer stream budgets.
func measureDelivery(tb testing.TB, n int) deliveryRun {
	ctx := context.Background()
	p := nodetest.Start(tb, node.Config{CoopName: "Provider"})[0]
	ph := p.Federation().Host()
	a := nodetest.Start(tb, node.Config{CoopName: "Home", Bootstrap: []string{ph.Addrs()[0].String() + "/p2p/" + ph.ID().String()}})[0]
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	o, err := p.Own().Create(ctx, admin, schema.Offering{Name: "Trasporto", Description: "Accompagnamento.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@coop.example.org"}})
	if err != nil {
		tb.Fatal(err)
	}
	poll.Until(tb, 30*time.Second, "the offering to reach A", func() bool {
		_, err := a.Catalogue().Get(ctx, p.PeerID(), o.ID)
		return err == nil
	})
	pid, err := peer.Decode(p.PeerID())
	if err != nil {
		tb.Fatal(err)
	}
	ah := a.Federation().Host()
	cit := auth.Actor{Username: "carla", Role: auth.Citizen}
	run := deliveryRun{request: make([]time.Duration, 0, n), outcome: make([]time.Duration, 0, n)}
	request := func(i int) time.Duration {
		// Timed until the request is in P's inbox, whether the citizen's
		// call has returned by then or not: a waiter woken by the inbox
		// itself (a poll's sleep, which time.Sleep rounds from 20 µs up
		// to about 1 ms here, would be timed with the delivery).
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		arrived := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			if p.Requests().WaitInbox(wctx, i+1) != nil {
				arrived <- -1
				return
			}
			arrived <- time.Since(start)
		}()
		if _, err := a.Requests().Create(ctx, cit, requests.NewRequest{Offerings: []string{o.ID}, For: "self",
			Municipality: "015146", Start: "2026-12-20", Consent: true}, "Carla"); err != nil {
			tb.Fatal(err)
		}
		took := <-arrived
		if took < 0 {
			tb.Fatalf("request %d not in the inbox after 30 s", i)
		}
		return took
	}
	outcome := func(i int) time.Duration {
		req, _ := json.Marshal(escalation.RemoteOutcome{V: 1, Key: fmt.Sprint("bench-", i), Beneficiary: "ben-1", Caregiver: "cg-1",
			Call: fmt.Sprint("call-", i), Status: "ok", Actions: []string{}})
		start := time.Now()
		ans, err := outcomeCall.Call(ctx, ah, pid, req)
		if err != nil {
			tb.Fatal(err)
		}
		took := time.Since(start)
		if !bytes.Contains(ans, []byte(`"ok":false`)) {
			tb.Fatalf("outcome answer %s", ans)
		}
		return took
	}
	for i := range n {
		// Each exchange starts from the same idle state, after a pause,
		// and the two take turns at going first: one run right after the
		// other finds the goroutines, threads and cores awake, and is
		// about 0.3 ms quicker at the median for it.
		time.Sleep(15 * time.Millisecond)
		if i%2 == 0 {
			run.request = append(run.request, request(i))
			time.Sleep(15 * time.Millisecond)
			run.outcome = append(run.outcome, outcome(i))
		} else {
			run.outcome = append(run.outcome, outcome(i))
			time.Sleep(15 * time.Millisecond)
			run.request = append(run.request, request(i))
		}
	}
	poll.Until(tb, 10*time.Second, "A's outbox to empty", func() bool { return a.Requests().Outbox().Pending("") == 0 })
	if got := p.Requests().InboxCount(); got != n {
		tb.Fatalf("P's inbox holds %d requests, want %d", got, n)
	}
	run.queued = a.Requests().Outbox().Stats().Queued
	return run
}

// TestRequestDelivery is BenchmarkRequestDelivery's scenario, small: both
// paths work and every request arrives once.
func TestRequestDelivery(t *testing.T) {
	run := measureDelivery(t, 20)
	t.Logf("request p50 %s p99 %s; outcome p50 %s p99 %s; %d requests queued", durPct(run.request, 50), durPct(run.request, 99),
		durPct(run.outcome, 50), durPct(run.outcome, 99), run.queued)
}

// BenchmarkRequestDelivery: 500 requests from the citizen's node to the
// provider's inbox against 500 outcome relays in the same run (goal:
// request p99 ≤ 1.2 × outcome p99). Run with -benchtime 1x.
func BenchmarkRequestDelivery(b *testing.B) {
	for range b.N {
		run := measureDelivery(b, 500)
		rq50, rq99 := durPct(run.request, 50), durPct(run.request, 99)
		oc50, oc99 := durPct(run.outcome, 50), durPct(run.outcome, 99)
		b.ReportMetric(float64(rq50.Microseconds())/1000, "request-p50-ms")
		b.ReportMetric(float64(rq99.Microseconds())/1000, "request-p99-ms")
		b.ReportMetric(float64(oc50.Microseconds())/1000, "outcome-p50-ms")
		b.ReportMetric(float64(oc99.Microseconds())/1000, "outcome-p99-ms")
		b.ReportMetric(float64(rq99)/float64(oc99), "p99-ratio")
		b.ReportMetric(float64(run.queued), "queued")
	}
}
