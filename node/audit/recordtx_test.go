package audit

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/node/store"
)

// TestRecordTx: an event recorded within a transaction is stored with the
// transaction's change, in the chain, or not at all when the transaction
// is abandoned; an event recorded meanwhile waits for the link and
// chains after it; the whole log verifies, also after reopening.
func TestRecordTx(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs := st.Namespace("/recs")
	l, err := Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, Event{Actor: "admin", Action: Create, Kind: "x", Object: "before"}); err != nil {
		t.Fatal(err)
	}

	// Abandoned: neither the change nor the event, and the link is free.
	tx, _ := store.Begin(ctx, recs)
	w, _ := tx.Writer(recs)
	_ = w.Put(ctx, store.NewKey("/a"), []byte("a"))
	if err := l.RecordTx(ctx, tx, Event{Actor: "carla", Action: Create, Kind: "request", Object: "a", For: "carla"}); err != nil {
		t.Fatal(err)
	}
	tx.Abandon()
	if n, _ := l.Head(); n != 1 {
		t.Fatalf("head after an abandoned transaction = %d, want 1", n)
	}

	// Committed, with an event recorded by another goroutine while the
	// transaction holds the link: that one comes after.
	tx, _ = store.Begin(ctx, recs)
	w, _ = tx.Writer(recs)
	_ = w.Put(ctx, store.NewKey("/b"), []byte("b"))
	if err := l.RecordTx(ctx, tx, Event{Actor: "carla", Action: Create, Kind: "request", Object: "b", For: "carla"}); err != nil {
		t.Fatal(err)
	}
	other := make(chan error, 1)
	go func() { other <- l.Record(ctx, Event{Actor: "admin", Action: Update, Kind: "x", Object: "meanwhile"}) }()
	select {
	case err := <-other:
		t.Fatalf("an event was stored while a transaction held the next link: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	if ok, _ := recs.Has(ctx, store.NewKey("/b")); !ok {
		t.Fatal("the transaction's change is missing")
	}
	evs, err := l.Query(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, e := range evs {
		objs = append(objs, e.Object)
	}
	if len(evs) != 3 || evs[0].Object != "meanwhile" || evs[1].Object != "b" || evs[2].Object != "before" {
		t.Fatalf("events newest first %v, want meanwhile, b, before", objs)
	}
	if mine, err := l.ForCitizen(ctx, "carla", 10); err != nil || len(mine) != 1 || mine[0].Object != "b" {
		t.Fatalf("carla's events = %+v, %v", mine, err)
	}
	if n, err := l.Verify(ctx); err != nil || n != 3 {
		t.Fatalf("verify = %d, %v", n, err)
	}
	l.Close()
	l, err = Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, _ := l.Head(); n != 3 {
		t.Fatalf("head after reopening = %d, want 3", n)
	}
	if err := l.Record(ctx, Event{Actor: "admin", Action: Read, Kind: "x", Object: "after"}); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(ctx); err != nil || n != 4 {
		t.Fatalf("verify after reopening = %d, %v", n, err)
	}
}

// TestRecordTxOtherStore: a transaction of another store cannot hold the
// log's events, and the log goes on.
func TestRecordTxOtherStore(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, store.NewMemory().Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tx, _ := store.Begin(ctx, store.NewMemory().Namespace("/recs"))
	defer tx.Abandon()
	if err := l.RecordTx(ctx, tx, Event{Actor: "a", Action: Create, Kind: "x"}); err == nil {
		t.Fatal("an event went into another store's transaction")
	}
	if err := l.Record(ctx, Event{Actor: "a", Action: Create, Kind: "x"}); err != nil {
		t.Fatal(err)
	}
}
