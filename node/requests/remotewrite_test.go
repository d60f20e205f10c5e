package requests

import (
	"context"
	"errors"
	"testing"

	"github.com/difronte/difronte/node/outbox"
)

// TestWithdrawIsOneWrite: a withdraw from the citizen's node closes the
// request in the provider's inbox and audits it in the message's one
// synced write. On a disk that takes no write, the message is answered
// "try later" and leaves neither the closed request nor its event; sent
// again on a working disk, it closes the request with one event. Written
// in two writes (the request, then its event), the failed message would
// have kept the closed request without its event.
func TestWithdrawIsOneWrite(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	if _, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: 18, Unit: "ora", Start: "2026-12-21", ValidUntil: "2099-01-01"}); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	head, _ := r.prov.cfg.Audit.Head()
	msg, err := encode(newID("ms"), homeID, MsgWithdraw, req.ID, wireWithdraw{})
	if err != nil {
		t.Fatal(err)
	}

	r.disks[provID].allow.Store(0)
	if ans := string(r.prov.HandleRemote(ctx, homeID, msg)); ans != `{"ok":false,"refused":"`+outbox.TryLater+`"}` {
		t.Fatalf("a withdraw on a failed disk was answered %s", ans)
	}
	r.disks[provID].allow.Store(-1)
	if got, _ := r.prov.inbox.Get(req.ID); got.State != StateOffered || got.Offers[0].State != StateOpen {
		t.Fatalf("a failed withdraw changed the request: %+v", got)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head {
		t.Fatalf("audit head %d after a failed withdraw, want %d", h, head)
	}

	if ans := string(r.prov.HandleRemote(ctx, homeID, msg)); ans != `{"ok":true}` {
		t.Fatalf("the withdraw sent again was answered %s", ans)
	}
	if got, _ := r.prov.inbox.Get(req.ID); got.State != StateClosed || got.Offers[0].State != "withdrawn" {
		t.Fatalf("the withdraw sent again did not close the request: %+v", got)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head+1 {
		t.Fatalf("audit head %d after the withdraw, want %d", h, head+1)
	}
}

// TestOrphanCloseIsOneWrite: closing a request its home node does not
// know and auditing it are one synced write. On a disk that takes no
// write, the reply the home node refused is kept for another try (send
// fails without ErrRefused) and neither the close nor its event is kept;
// the next try closes it with one event and lets the reply go. Written in
// two writes, the failed try would have kept the closed request without
// its event.
func TestOrphanCloseIsOneWrite(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	id := r.orphan(t)
	reply, err := encode(newID("ms"), provID, MsgOffer, id, wireOffer{Offer: Offer{ID: "of-orphan01", Request: id, Provider: provID,
		Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31", State: StateOpen, Created: r.clk.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.prov.cfg.Audit.Head()

	r.disks[provID].allow.Store(0)
	if err := r.prov.send(ctx, homeID, "", reply); err == nil || errors.Is(err, outbox.ErrRefused) {
		t.Fatalf("a refused reply whose close failed: %v, want an error to try again", err)
	}
	r.disks[provID].allow.Store(-1)
	if got, _ := r.prov.inbox.Get(id); got.State != StateOpen || got.Reason != "" {
		t.Fatalf("a failed close changed the orphan: %+v", got)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head {
		t.Fatalf("audit head %d after a failed close, want %d", h, head)
	}

	if err := r.prov.send(ctx, homeID, "", reply); !errors.Is(err, outbox.ErrRefused) {
		t.Fatalf("the reply tried again: %v, want refused", err)
	}
	if got, _ := r.prov.inbox.Get(id); got.State != StateClosed || got.Reason != ReasonUnknownAtHome {
		t.Fatalf("the orphan after the second try: %+v", got)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head+1 {
		t.Fatalf("audit head %d after the close, want %d", h, head+1)
	}
}
