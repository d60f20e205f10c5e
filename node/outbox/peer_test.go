package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/testnet/poll"
)

type fakeCarrier struct {
	ans []byte
	err error
}

func (f fakeCarrier) Send(context.Context, string, []byte) ([]byte, error) { return f.ans, f.err }

// TestDeliver: an answer OK is delivered, a refusal is dropped for good
// (ErrRefused), try_later, a transport error, no link and a garbled
// answer are retried; to self goes to the local handler.
func TestDeliver(t *testing.T) {
	ctx := context.Background()
	local := func(context.Context, string, []byte) []byte { return []byte(`{"ok":true}`) }
	cases := []struct {
		c       Carrier
		retry   bool
		refused bool
	}{
		{fakeCarrier{ans: []byte(`{"ok":true}`)}, false, false},
		{fakeCarrier{ans: []byte(`{"refused":"unknown_request"}`)}, false, true},
		{fakeCarrier{ans: []byte(`{"refused":"try_later"}`)}, true, false},
		{fakeCarrier{err: errors.New("stream reset")}, true, false},
		{fakeCarrier{ans: []byte(`not json`)}, true, false},
		{nil, true, false},
	}
	for i, c := range cases {
		a, err := Deliver(ctx, "self", "other", []byte("m"), c.c, local)
		if (err != nil) != c.retry {
			t.Errorf("%d: err %v, want retry %v", i, err, c.retry)
		}
		if err == nil && errors.Is(a.Err(), ErrRefused) != c.refused {
			t.Errorf("%d: answer %+v", i, a)
		}
	}
	if a, err := Deliver(ctx, "self", "self", []byte("m"), nil, local); err != nil || !a.OK {
		t.Errorf("to self: %+v %v", a, err)
	}
}

// TestReceiver: a forged sender and an undecodable message are refused
// and audited; a message is applied once with its "handled" id in the
// same write; a Refusal is answered as such and changes nothing; any
// other failure asks the sender to try later.
func TestReceiver(t *testing.T) {
	ctx := context.Background()
	root := store.NewMemory().Namespace("/dom")
	var audited []string
	r := Receiver{Seen: NewSeen(store.NewSub(root, "/seen")), Root: root, Log: slog.New(slog.DiscardHandler),
		Refused: func(_ context.Context, peer, code string) { audited = append(audited, peer+":"+code) }, What: "test message"}
	answer := func(b []byte) Answer {
		var a Answer
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	runs := 0
	apply := func(tx *store.Tx) error {
		runs++
		w, err := tx.Writer(root)
		if err != nil {
			return err
		}
		return w.Put(ctx, ds.NewKey("/effect"), []byte("x"))
	}
	if a := answer(r.Receive(ctx, "p1", "p2", "ms-1", nil, apply)); a.Refused != "forged_sender" {
		t.Fatalf("forged: %+v", a)
	}
	if a := answer(r.Receive(ctx, "p1", "", "", errors.New("bad"), apply)); a.Refused != "bad_message" {
		t.Fatalf("bad: %+v", a)
	}
	for range 2 {
		if a := answer(r.Receive(ctx, "p1", "p1", "ms-1", nil, apply)); !a.OK {
			t.Fatalf("genuine: %+v", a)
		}
	}
	if runs != 1 {
		t.Fatalf("applied %d times, want 1", runs)
	}
	if ok, _ := root.Has(ctx, ds.NewKey("/effect")); !ok {
		t.Fatal("the effect was not stored")
	}
	no := func(*store.Tx) error { return Refusal("not_asked") }
	if a := answer(r.Receive(ctx, "p1", "p1", "ms-2", nil, no)); a.Refused != "not_asked" {
		t.Fatalf("refusal: %+v", a)
	}
	fail := func(*store.Tx) error { return errors.New("disk full") }
	if a := answer(r.Receive(ctx, "p1", "p1", "ms-3", nil, fail)); a.Refused != TryLater {
		t.Fatalf("failure: %+v", a)
	}
	// Neither the refused nor the failed message counts as handled.
	if a := answer(r.Receive(ctx, "p1", "p1", "ms-3", nil, apply)); !a.OK || runs != 2 {
		t.Fatalf("retry after a failure: %+v, runs %d", a, runs)
	}
	if len(audited) != 3 || audited[0] != "p1:forged_sender" || audited[2] != "p1:not_asked" {
		t.Fatalf("audited %v", audited)
	}
}

// TestEnqueueTx: a message queued within a transaction is sent only
// once the transaction commits; an abandoned one is neither stored nor
// sent, and its id can be queued again.
func TestEnqueueTx(t *testing.T) {
	ctx := context.Background()
	root := store.NewMemory().Namespace("/dom")
	sent := make(chan string, 4)
	o, err := Open(ctx, Config{Store: store.NewSub(root, "/outbox"), Send: func(_ context.Context, _, id string, _ []byte) error {
		sent <- id
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	o.Start()
	defer o.Close()
	tx, _ := store.Begin(ctx, root)
	if err := o.EnqueueTx(ctx, tx, "peer", "m1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-sent:
		t.Fatalf("%s sent before the commit", id)
	case <-time.After(50 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if id := <-sent; id != "m1" {
		t.Fatalf("sent %s", id)
	}
	// The worker drops m1 from its queue just after the send returns.
	poll.Until(t, 5*time.Second, "m1 out of the queue once sent", func() bool { return o.Pending("") == 0 })
	tx2, _ := store.Begin(ctx, root)
	if err := o.EnqueueTx(ctx, tx2, "peer", "m2", []byte("y")); err != nil {
		t.Fatal(err)
	}
	tx2.Abandon()
	if n := o.Pending(""); n != 0 {
		t.Fatalf("pending %d after an abandoned transaction", n)
	}
	if err := o.Enqueue(ctx, "peer", "m2", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if id := <-sent; id != "m2" {
		t.Fatalf("sent %s", id)
	}
}
