package requests

import (
	"context"
	"testing"

	"github.com/difronte/difronte/node/audit"
)

// TestOrphanRequestCloses: a provider holding a request that its home node
// does not know (the home node sent it before storing it, then died before
// the write was durable) closes it when its reply is refused as
// unknown_request, and audits that; a request the home node knows stays
// open after a reply.
func TestOrphanRequestCloses(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	known := r.sent(t)

	id := r.orphan(t)
	if _, err := r.home.Get(ctx, citizen, id); err == nil {
		t.Fatal("the home node knows the orphan")
	}
	for _, rq := range []string{id, known.ID} {
		if _, err := r.prov.MakeOffer(ctx, manager, rq, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}); err != nil {
			t.Fatal(err)
		}
	}
	r.settle(t)
	got, err := r.prov.Get(ctx, manager, id)
	if err != nil || got.State != StateClosed || got.Reason != ReasonUnknownAtHome || got.Offers[0].State != "withdrawn" {
		t.Fatalf("orphan after the refused offer: %+v %v", got, err)
	}
	if got, err := r.prov.Get(ctx, manager, known.ID); err != nil || got.State == StateClosed {
		t.Fatalf("known request after the offer: %+v %v", got, err)
	}
	evs, err := r.prov.cfg.Audit.Query(ctx, audit.Filter{Kind: "request", Object: id})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	for _, e := range evs {
		closed = closed || (e.Action == audit.Update && e.Detail == "closed: "+ReasonUnknownAtHome)
	}
	if !closed {
		t.Fatalf("no audit event for the closed orphan: %+v", evs)
	}
	// Closed: the provider cannot answer it again.
	if _, err := r.prov.MakeOffer(ctx, manager, id, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}); err == nil {
		t.Fatal("an offer on the closed orphan was accepted")
	}
}

// orphan delivers to the provider a request as a send at once (SendNow)
// does, with no record on the home node, and returns its id.
func (r *rig) orphan(t *testing.T) string {
	t.Helper()
	id := r.home.orderedID("rq")
	msg, err := encode(newID("ms"), homeID, MsgRequest, id, wireRequest{Offerings: []OfferingRef{{Publisher: provID, ID: "off1"}},
		Need: Need{For: "self", Municipality: "015146", Start: "2026-12-20"}, Created: r.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if ans := r.prov.HandleRemote(context.Background(), homeID, msg); string(ans) != `{"ok":true}` {
		t.Fatalf("orphan not filed: %s", ans)
	}
	return id
}
