package outbox

import (
	"context"
	"errors"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/testnet/poll"
)

// gated is a namespace whose batches commit only when the test says, and
// fail when it says so: the synced write of a transaction, held open.
// Each batch's gate is on gates, in the order the batches were begun.
type gated struct {
	store.Namespace
	gates chan chan error
}

func (g gated) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := g.Namespace.Batch(ctx)
	gate := make(chan error, 1)
	g.gates <- gate
	return gatedBatch{b, gate}, err
}

type gatedBatch struct {
	ds.Batch
	release chan error
}

func (b gatedBatch) Commit(ctx context.Context) error {
	if err := <-b.release; err != nil {
		return err
	}
	return b.Batch.Commit(ctx)
}

// earlyRig is an outbox on a gated store whose sends are recorded.
type earlyRig struct {
	o    *Outbox
	root gated
	sent chan string
}

func newEarlyRig(t *testing.T) *earlyRig {
	t.Helper()
	r := &earlyRig{root: gated{store.NewMemory().Namespace("/dom"), make(chan chan error, 8)}, sent: make(chan string, 4)}
	o, err := Open(context.Background(), Config{Store: store.NewSub(r.root, "/outbox"), MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond, Send: func(_ context.Context, _, id string, _ []byte) error {
			r.sent <- id
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	o.Start()
	t.Cleanup(func() { o.Close() })
	r.o = o
	return r
}

// commit queues id early in a transaction and commits it in the
// background; the returned channel has Commit's result.
func (r *earlyRig) commit(t *testing.T, id string) chan error {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx, r.root)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.o.EnqueueEarlyTx(ctx, tx, "peer", id, []byte(id)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tx.Commit(ctx) }()
	return done
}

func (r *earlyRig) stored(t *testing.T) int {
	t.Helper()
	n := 0
	if err := store.Each(context.Background(), store.NewSub(r.root.Namespace, "/outbox"), queuePrefix, func(string, []byte) error {
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEarlyLeavesDuringTheWrite: a message queued by EnqueueEarlyTx
// leaves while its transaction is being written, and leaves the store only
// once the write is done.
func TestEarlyLeavesDuringTheWrite(t *testing.T) {
	r := newEarlyRig(t)
	done := r.commit(t, "m1")
	select {
	case id := <-r.sent:
		if id != "m1" {
			t.Fatalf("sent %s", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing sent while the transaction was being written")
	}
	if n := r.o.Pending(""); n != 1 {
		t.Fatalf("pending %d before the write ended, want 1 (delivered, not yet durable)", n)
	}
	(<-r.root.gates) <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the delivered message to leave the queue", func() bool { return r.o.Pending("") == 0 })
	if n := r.stored(t); n != 0 {
		t.Fatalf("%d messages still stored after delivery", n)
	}
}

// TestEarlyFailedWrite: when the write fails, a message that already left
// is not retried and one that had not left never does; an abandoned
// transaction sends nothing.
func TestEarlyFailedWrite(t *testing.T) {
	r := newEarlyRig(t)
	ctx := context.Background()
	tx, _ := store.Begin(ctx, r.root)
	if err := r.o.EnqueueEarlyTx(ctx, tx, "peer", "m0", []byte("m0")); err != nil {
		t.Fatal(err)
	}
	tx.Abandon()
	<-r.root.gates

	done := r.commit(t, "m1")
	gate1 := <-r.root.gates
	if id := <-r.sent; id != "m1" {
		t.Fatalf("sent %s, want m1 (m0's transaction was abandoned)", id)
	}
	// m2 waits behind m1, whose worker waits for m1's write; m2's write
	// fails first, then m1's.
	done2 := r.commit(t, "m2")
	(<-r.root.gates) <- errors.New("disk full")
	if err := <-done2; err == nil {
		t.Fatal("m2's write did not fail")
	}
	gate1 <- errors.New("disk full")
	if err := <-done; err == nil {
		t.Fatal("m1's write did not fail")
	}
	poll.Until(t, 10*time.Second, "the failed messages to leave the queue", func() bool { return r.o.Pending("") == 0 })
	select {
	case id := <-r.sent:
		t.Fatalf("%s sent after its write failed", id)
	case <-time.After(50 * time.Millisecond):
	}
	if n := r.stored(t); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
	// The ids are free again.
	done3 := r.commit(t, "m1")
	if id := <-r.sent; id != "m1" {
		t.Fatalf("sent %s", id)
	}
	(<-r.root.gates) <- nil
	if err := <-done3; err != nil {
		t.Fatal(err)
	}
}
