package testnet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// TestOutboxFlush1000 is the scenario of BenchmarkRequestsOutboxFlush: it
// fails when the 1,000 queued requests take more than 30 s after the
// provider's return, or when one is handled twice.
func TestOutboxFlush1000(t *testing.T) {
	ctx := context.Background()
	r := newReqNet(t)
	r.start(0)
	r.start(1, 0)
	a, p := r.nodes[0], r.nodes[1]
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	o, err := p.Own().Create(ctx, admin, schema.Offering{Name: "Trasporto", Description: "Accompagnamento.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@coop.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the offering to reach A", func() bool {
		_, err := a.Catalogue().Get(ctx, p.PeerID(), o.ID)
		return err == nil
	})
	cit := auth.Actor{Username: "carla", Role: auth.Citizen}
	provider := p.PeerID()
	r.stop(1)
	const n = 1000
	for i := range n {
		_, err := a.Requests().Create(ctx, cit, requests.NewRequest{Offerings: []string{o.ID}, For: fmt.Sprint("persona ", i),
			Municipality: "015146", Start: "2026-12-20", Consent: true}, "Carla")
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Requests().Outbox().Pending(provider); got != n {
		t.Fatalf("queued %d, want %d", got, n)
	}
	back := time.Now()
	r.start(1, 0)
	p = r.nodes[1]
	poll.Until(t, 60*time.Second, "every request in the provider's inbox", func() bool {
		return p.Requests().InboxCount() == n
	})
	took := time.Since(back)
	t.Logf("%d queued requests delivered %.2f s after the provider's return", n, took.Seconds())
	if took > 30*time.Second {
		t.Errorf("took %s, goal 30 s", took)
	}
	poll.Until(t, 10*time.Second, "A's outbox to empty", func() bool { return a.Requests().Outbox().Pending("") == 0 })
	if got := seenFrom(t, p, a.PeerID()); got != n {
		t.Errorf("the provider handled %d messages, want %d, each once", got, n)
	}
	if got := p.Requests().InboxCount(); got != n {
		t.Errorf("inbox holds %d requests, want %d", got, n)
	}
}
