package testnet

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// TestSearchFreshness publishes on one in-process node and searches on
// another: the offering is found within the propagation time, a withdrawal
// removes it, and a revoked qualification leaves the qualified filter.
func TestSearchFreshness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	net := NewInProc(t, 3, Options{Seed: 5})
	idx, err := search.Open(ctx, search.Config{Replica: net.Nodes[2].Fed.Replica()})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	found := func(q search.Query) int {
		t.Helper()
		r, err := idx.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	waitUntil := func(what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		if !poll.WaitCtx(ctx, 10*time.Millisecond, cond) {
			t.Fatalf("timed out waiting for %s", what)
		}
		return time.Since(start)
	}
	o := schema.Offering{
		ID: "3f1c9a52-7d3e-4b8a-9c1d-2e5f6a7b8c9d", Name: "Telesoccorso per anziani soli",
		Description: "Un pulsante al polso chiama la centrale a ogni ora.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"080063"},
		Languages: []string{"it"}, Contact: schema.Contact{Phone: "+39 0965 123456"}, Status: schema.StatusActive,
	}
	body, _ := json.Marshal(o)
	if _, err := net.Nodes[0].Fed.Publish(ctx, schema.KindOffering, o.ID, body); err != nil {
		t.Fatal(err)
	}
	q := search.Query{Text: "telesoccorso anziano", Municipality: "080063"}
	took := waitUntil("the offering to be searchable on another node", func() bool { return found(q) == 1 })
	t.Logf("searchable on another node after %v", took)

	publisher := net.Nodes[0].Host.ID().String()
	idx.SetQualified(publisher, func(schema.Offering) (string, time.Time, bool) { return "Comune di Reggio Calabria", time.Time{}, true })
	waitUntil("the qualification", func() bool { return found(search.Query{QualifiedOnly: true}) == 1 })
	idx.SetQualified(publisher, nil)
	waitUntil("the revocation", func() bool { return found(search.Query{QualifiedOnly: true}) == 0 })

	if _, err := net.Nodes[0].Fed.Withdraw(ctx, schema.KindOffering, o.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil("the withdrawal to reach the other node's index", func() bool { return found(q) == 0 })
}
