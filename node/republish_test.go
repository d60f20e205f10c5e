package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
)

// TestStartRepublishesOnlyWhatTheLogLacks: offerings changed while the
// node ran without its federation are signed and published at the next
// start with it, and after that nothing is left marked for the start
// after.
func TestStartRepublishesOnlyWhatTheLogLacks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	admin := auth.Actor{Username: "admin", Role: auth.Admin}

	alone := start(t, node.Config{DataDir: dir, AdminPassword: "admin-password-1"})
	var ids []string
	for _, o := range demo.Offerings(3, 3) {
		rec, err := alone.Own().Import(ctx, admin, o)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	if _, err := alone.Own().Archive(ctx, admin, ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := alone.Close(); err != nil {
		t.Fatal(err)
	}

	startFederated := func() *node.Node {
		n := nodetest.Start(t, node.Config{DataDir: dir, AdminPassword: "admin-password-1"})[0]
		select {
		case <-n.Settled():
		case <-time.After(20 * time.Second):
			t.Fatal("start-up work did not settle in 20 s")
		}
		return n
	}
	n := startFederated()
	rep := n.Federation().Replica()
	for i, id := range ids {
		e, err := rep.Get(ctx, n.PeerID(), schema.KindOffering, id)
		switch {
		case i < 2 && err != nil:
			t.Fatalf("live offering %s stored without federation is not in the signed log: %v", id, err)
		case i == 2 && err == nil && !e.Tombstone:
			t.Fatalf("offering %s, archived before it was ever published, is in the log as live", id)
		}
	}
	if left, err := n.Own().Unpublished(ctx); err != nil || len(left) != 0 {
		t.Fatalf("after the republish: unpublished %v (%v), want none", left, err)
	}
	seq := rep.Marks()[n.PeerID()]
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// The next start finds nothing to republish: the log does not grow.
	n = startFederated()
	defer n.Close()
	if got := n.Federation().Replica().Marks()[n.PeerID()]; got != seq {
		t.Fatalf("a start with nothing unpublished moved the log from seq %d to %d", seq, got)
	}
}
