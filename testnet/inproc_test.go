package testnet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Package-level workers of libraries we do not start ourselves.
		goleak.IgnoreTopFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*peernet).handleNewStream"),
		// A mocknet stream opened while its connection closes is never
		// reset (seen once in 60 runs, after mocknet.Close): its pipe
		// goroutines and the pubsub reader and writer blocked on it stay.
		// Only in-memory test networks have such streams.
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).transport"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).Write"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).Read"),
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"),
	)
}

// publishMany makes random nodes publish count random changes.
func publishMany(t *testing.T, ctx context.Context, net *InProc, nodes []int, count int) {
	t.Helper()
	for k := range count {
		i := nodes[k%len(nodes)]
		if _, _, err := net.PublishRandom(ctx, i); err != nil {
			t.Fatalf("publish %d from node %d: %v", k, i, err)
		}
	}
}

func TestManyNodesConverge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	const n = 20
	net := NewInProc(t, n, Options{Degree: 4, Seed: 1, NoAutoCatchup: true})
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	publishMany(t, ctx, net, all, 120)
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	live := 0
	err := net.Nodes[0].Fed.Replica().Current(ctx, schema.KindOffering, func(*schema.Entry) error { live++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	pubs := net.Nodes[n-1].Fed.Replica().Publishers()
	if live == 0 || len(pubs) != n {
		t.Fatalf("converged on %d live offerings from %d publishers, want >0 from %d", live, len(pubs), n)
	}
}

func TestPartitionHeals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 10
	// Entries a node pulls by catch-up are not re-gossiped (only a
	// publisher originates its entries on gossip), so nodes away from the
	// healed links converge on their periodic catch-up: shortened here.
	net := NewInProc(t, n, Options{Degree: 3, Seed: 2, CatchupInterval: time.Second})
	left, right := []int{0, 1, 2, 3, 4}, []int{5, 6, 7, 8, 9}
	if err := net.Partition(left, right); err != nil {
		t.Fatal(err)
	}
	publishMany(t, ctx, net, left, 30)
	publishMany(t, ctx, net, right, 30)
	// Each side converges on its own state, different from the other's.
	if err := waitGroup(ctx, net, left); err != nil {
		t.Fatal(err)
	}
	if err := waitGroup(ctx, net, right); err != nil {
		t.Fatal(err)
	}
	if net.Nodes[0].Fed.Replica().Digest() == net.Nodes[9].Fed.Replica().Digest() {
		t.Fatal("the two halves agree while partitioned")
	}
	if err := net.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitGroup waits until the nodes in idx agree on a digest.
func waitGroup(ctx context.Context, net *InProc, idx []int) error {
	if !poll.WaitCtx(ctx, 20*time.Millisecond, func() bool {
		d := map[[32]byte]bool{}
		for _, i := range idx {
			d[net.Nodes[i].Fed.Replica().Digest()] = true
		}
		return len(d) == 1
	}) {
		return ctx.Err()
	}
	return nil
}

// missing counts the current entries (tombstones included) that from holds
// and to lacks or holds at an older seq.
func missing(t *testing.T, ctx context.Context, from, to *Node) int {
	t.Helper()
	n := 0
	for _, ps := range from.Fed.Replica().Publishers() {
		err := from.Fed.Replica().Since(ctx, ps.Publisher, 0, func(e *schema.Entry) error {
			got, err := to.Fed.Replica().Get(ctx, e.Publisher, e.Kind, e.Key)
			switch {
			case errors.Is(err, datastore.ErrNotFound):
				n++
			case err != nil:
				return err
			case got.Seq != e.Seq:
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestOfflineNodeCatchesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	// Node 3 never receives gossip and never catches up by itself.
	net := NewInProc(t, 4, Options{Seed: 3, NoGossip: []int{3}, NoAutoCatchup: true})
	pubs := []int{0, 1, 2}
	publishMany(t, ctx, net, pubs, 100)
	if err := waitGroup(ctx, net, pubs); err != nil {
		t.Fatal(err)
	}
	src, lag := net.Nodes[0], net.Nodes[3]
	if _, err := lag.Fed.Sync(ctx, src.Host.ID()); err != nil {
		t.Fatal(err)
	}
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}

	// 1,000 changes while node 3 hears nothing.
	publishMany(t, ctx, net, pubs, 1000)
	if err := waitGroup(ctx, net, pubs); err != nil {
		t.Fatal(err)
	}
	want := missing(t, ctx, src, lag)
	if want == 0 {
		t.Fatal("node 3 is missing nothing: gossip reached it")
	}
	st, err := lag.Fed.Sync(ctx, src.Host.ID())
	if err != nil {
		t.Fatal(err)
	}
	// Every missing entry is applied. A few more may cross: the marks
	// node 3 took from node 0 earlier were node 0's complete-through
	// seqs, which lag its held seqs where gossip compaction skipped one.
	if st.Applied != want {
		t.Errorf("catch-up applied %d entries, %d were missing", st.Applied, want)
	}
	if extra := st.Entries - want; extra < 0 || extra > want/20 {
		t.Errorf("catch-up transferred %d entries for %d missing: more than 5%% overhead", st.Entries, want)
	}
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("catch-up: %d entries missing, stats %+v", want, st)
}

func TestStoppedNodeRestartsAndConverges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	net := NewInProc(t, 6, Options{Degree: 2, Seed: 4, CatchupInterval: time.Second})
	publishMany(t, ctx, net, []int{0, 1, 2, 3, 4, 5}, 30)
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	before := net.Nodes[5].Fed.Replica().Digest()
	if err := net.Stop(5); err != nil {
		t.Fatal(err)
	}
	publishMany(t, ctx, net, []int{0, 1, 2}, 100)
	if err := net.Restart(ctx, 5); err != nil {
		t.Fatal(err)
	}
	// The restarted node kept its store: it starts from where it was.
	if got := net.Nodes[5].Fed.Replica().Digest(); got != before {
		t.Fatal("restarted node lost its replica")
	}
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}
