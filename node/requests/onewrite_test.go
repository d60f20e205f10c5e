package requests

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	ds "github.com/ipfs/go-datastore"
)

// flaky is a datastore whose batches stop committing after allow more
// commits (negative: never): a disk that fails in the middle of a change.
type flaky struct {
	ds.Batching
	allow atomic.Int32
}

func (f *flaky) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := f.Batching.Batch(ctx)
	return flakyBatch{b, f}, err
}

type flakyBatch struct {
	ds.Batch
	f *flaky
}

func (b flakyBatch) Commit(ctx context.Context) error {
	if b.f.allow.Load() == 0 {
		return errors.New("disk failed")
	}
	b.f.allow.Add(-1)
	return b.Batch.Commit(ctx)
}

// TestAnswerIsOneWrite: a provider's offer and decline, their message to
// the citizen's node and their audit event are one synced write. With a
// disk that takes one more write and fails the rest, the offer is whole
// (in the inbox, delivered, audited once); with a disk that takes none,
// the decline leaves nothing (the request still open with its one offer,
// nothing queued, no event). Written in three writes, the first would
// have kept a change whose message never left.
func TestAnswerIsOneWrite(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	disk := r.disks[provID]
	head, _ := r.prov.cfg.Audit.Head()

	disk.allow.Store(1)
	o, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: 18, Unit: "ora", Start: "2026-12-21", ValidUntil: "2099-01-01"})
	if err != nil {
		t.Fatalf("an offer on a disk that takes one write: %v", err)
	}
	r.settle(t)
	if mine, ok := r.home.mine.Get(req.ID); !ok || len(mine.Offers) != 1 || mine.Offers[0].ID != o.ID {
		t.Fatalf("the offer did not reach the citizen's node: %+v", mine)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head+1 {
		t.Fatalf("audit head %d after the offer, want %d", h, head+1)
	}

	disk.allow.Store(0)
	if _, err := r.prov.Decline(ctx, manager, req.ID, "nessuna disponibilità"); err == nil {
		t.Fatal("a decline on a failed disk was acknowledged")
	}
	disk.allow.Store(-1)
	if got, _ := r.prov.inbox.Get(req.ID); got.State != StateOffered || len(got.Offers) != 1 || got.Offers[0].State != StateOpen {
		t.Fatalf("a failed decline changed the request: %+v", got)
	}
	if n := r.prov.Outbox().Pending(""); n != 0 {
		t.Fatalf("a failed decline queued %d messages", n)
	}
	if h, _ := r.prov.cfg.Audit.Head(); h != head+1 {
		t.Fatalf("audit head %d after a failed decline, want %d", h, head+1)
	}
}

// TestClonesShareNothing: a Request's and a Case's clones (what their
// collections hand out, store.Cloner) share no slice with the original.
func TestClonesShareNothing(t *testing.T) {
	r := Request{Offers: []Offer{{State: StateOpen}}, Deliveries: []Delivery{{State: StateOpen, Offerings: []string{"a"}}},
		Offerings: []OfferingRef{{ID: "a"}}, Messages: []Message{{Text: "x"}}}
	c := r.Clone()
	c.Offers[0].State, c.Deliveries[0].State, c.Deliveries[0].Offerings[0] = "withdrawn", StateClosed, "b"
	c.Offerings[0].ID, c.Messages[0].Text = "b", "y"
	if r.Offers[0].State != StateOpen || r.Deliveries[0].State != StateOpen || r.Deliveries[0].Offerings[0] != "a" ||
		r.Offerings[0].ID != "a" || r.Messages[0].Text != "x" {
		t.Fatalf("a request's clone shares memory: %+v", r)
	}
	k := Case{Timeline: []Change{{To: CaseActive}}, Due: []Due{{Amount: 1}}, Payments: []Payment{{}}, Messages: []Message{{Text: "x"}},
		Offerings: []OfferingRef{{ID: "a"}}}
	d := k.Clone()
	d.Timeline[0].To, d.Due[0].Amount, d.Messages[0].Text, d.Offerings[0].ID = "x", 2, "y", "b"
	d.Payments[0].ID = "p"
	if k.Timeline[0].To != CaseActive || k.Due[0].Amount != 1 || k.Messages[0].Text != "x" || k.Offerings[0].ID != "a" || k.Payments[0].ID != "" {
		t.Fatalf("a case's clone shares memory: %+v", k)
	}
}
