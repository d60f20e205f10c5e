package store

import (
	"context"
	"testing"
)

// TestTxAcrossSubs: writes to a collection and to a Sub of the same root
// land together on Commit, and memory follows only then; an abandoned
// Tx leaves nothing.
func TestTxAcrossSubs(t *testing.T) {
	ctx := context.Background()
	st := NewMemory()
	root := st.Namespace("/dom")
	type rec struct{ ID, V string }
	c, err := LoadCollection(ctx, root, "/recs/", func(r *rec) string { return r.ID })
	if err != nil {
		t.Fatal(err)
	}
	sub := NewSub(root, "/queue")
	tx, err := Begin(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutTx(ctx, tx, rec{ID: "a", V: "1"}); err != nil {
		t.Fatal(err)
	}
	w, err := tx.Writer(sub)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, NewKey("/m/1"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("record visible before commit")
	}
	if ok, _ := sub.Has(ctx, NewKey("/m/1")); ok {
		t.Fatal("queued key stored before commit")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r, ok := c.Get("a"); !ok || r.V != "1" {
		t.Fatalf("record after commit: %+v %v", r, ok)
	}
	if ok, _ := sub.Has(ctx, NewKey("/m/1")); !ok {
		t.Fatal("queued key missing after commit")
	}
	if ok, _ := st.Datastore().Has(ctx, NewKey("/dom/queue/m/1")); !ok {
		t.Fatal("queued key not under the root's prefix")
	}
	// A key that already starts with the Sub's prefix is stored where the
	// Sub's own Put stores it (go-datastore's prefix rule).
	tx1, _ := Begin(ctx, root)
	w, _ = tx1.Writer(sub)
	_ = w.Put(ctx, NewKey("/queue/n"), []byte("y"))
	if err := tx1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := sub.Has(ctx, NewKey("/queue/n")); !ok {
		t.Fatal("a Tx write is not where the Sub reads it")
	}

	tx2, _ := Begin(ctx, root)
	if err := c.PutTx(ctx, tx2, rec{ID: "b", V: "2"}); err != nil {
		t.Fatal(err)
	}
	tx2.Abandon()
	if _, ok := c.Get("b"); ok {
		t.Fatal("abandoned record visible")
	}
	if ok, _ := root.Has(ctx, NewKey("/recs/b")); ok {
		t.Fatal("abandoned record stored")
	}
	if _, err := tx2.Writer(NewMemory().Namespace("/other")); err != ErrOtherStore {
		t.Fatalf("namespace of another store: %v", err)
	}

	// Every namespace of one store is in reach of a transaction begun on
	// any of them: one synced write for a change and its audit event.
	other := st.Namespace("/other")
	tx3, _ := Begin(ctx, root)
	if err := c.PutTx(ctx, tx3, rec{ID: "c", V: "3"}); err != nil {
		t.Fatal(err)
	}
	w, err = tx3.Writer(other)
	if err != nil {
		t.Fatalf("sibling namespace: %v", err)
	}
	_ = w.Put(ctx, NewKey("/e/1"), []byte("z"))
	if ok, _ := other.Has(ctx, NewKey("/e/1")); ok {
		t.Fatal("a sibling's write visible before commit")
	}
	if err := tx3.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Datastore().Has(ctx, NewKey("/other/e/1")); !ok {
		t.Fatal("the sibling's write is not under its prefix")
	}
	if _, ok := c.Get("c"); !ok {
		t.Fatal("the record of the same transaction is missing")
	}
}
