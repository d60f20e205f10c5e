package replica

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/difronte/difronte/schema"
)

// TestMarkAdvancesOnlyByMatchingCheckpoint: a replica holding part of a
// publisher's log and its checkpoint keeps its mark; holding what the
// checkpoint describes, it advances, and keeps it across a reopen.
func TestMarkAdvancesOnlyByMatchingCheckpoint(t *testing.T) {
	ctx := context.Background()
	p := key(40)
	pub := schema.PeerIDFromPublicKey(p.Public().(ed25519.PublicKey))
	src := open(t, newDS())
	var log []*schema.Entry
	for i := range 8 {
		body := []byte(`{}`)
		if i == 6 {
			body = nil
		}
		e, err := src.Append(ctx, p, schema.KindOffering, fmt.Sprint("k", i%5), body, i == 6, t0)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, e)
	}
	if again, err := src.Checkpoint(ctx, p, t0); err != nil || again == nil {
		t.Fatalf("checkpoint: %v %v", again, err)
	}
	if again, err := src.Checkpoint(ctx, p, t0); err != nil || again != nil {
		t.Fatalf("second checkpoint without changes: %v %v", again, err)
	}
	cp, err := src.Get(ctx, pub, schema.KindCheckpoint, schema.CheckpointKey)
	if err != nil || cp.Seq != 9 {
		t.Fatalf("checkpoint entry: %v %v", cp, err)
	}

	ds := newDS()
	r := open(t, ds)
	// Seqs 6..8 and the checkpoint: the newest entries only, as a
	// censoring peer would send them. Seqs 1..5 missing.
	if _, err := r.ApplyBatch(ctx, []*schema.Entry{log[7], log[6], log[5], cp}); err != nil {
		t.Fatal(err)
	}
	if m := r.Marks()[pub]; m != 0 {
		t.Fatalf("mark %d with entries missing", m)
	}
	// Seqs 2..5: everything current. Seq 1 (k0, superseded by seq 6)
	// never arrives, so only the checkpoint can carry the mark past it.
	if _, err := r.ApplyBatch(ctx, log[1:5]); err != nil {
		t.Fatal(err)
	}
	if m := r.Marks()[pub]; m != 9 || r.Digest() != src.Digest() {
		t.Fatalf("mark %d, digest equal %v; want 9 and the same state", m, r.Digest() == src.Digest())
	}
	if m := open(t, ds).Marks()[pub]; m != 9 {
		t.Fatalf("reopened mark %d", m)
	}
}
