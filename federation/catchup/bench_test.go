package catchup

import (
	"context"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// BenchmarkCatchup1000of100k: a replica missing 1,000 changes of a
// 100,000-record federation (300 publishers) catches up from a full one.
// Each publisher's log ends with its checkpoint, which the lagging replica
// also lacks: the 300 checkpoints are counted as overhead, not as entries.
// The baseline, measured in the same run, is the naive reconciliation
// message "here are the ids of everything I hold": its size (32 bytes per
// record) and the time to build it from the lagging replica.
//
//	go test ./federation/catchup -run '^$' -bench Catchup1000of100k -benchtime 3x
func BenchmarkCatchup1000of100k(b *testing.B) {
	ctx := context.Background()
	fx := buildFixture(b, 300, 334, 1000).withCheckpoints(b)
	mn := mocknet.New()
	defer mn.Close()
	a := newNode(b, mn, nil, Options{ValidateBody: schema.ValidateBody})
	defer a.s.Close()
	fx.load(b, a.r, true)

	var st Stats
	var baselineBytes int
	var baselineTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// The lagging node, fresh each round. Fixture bodies are not
		// catalogue offerings, so its validator only checks JSON.
		bn := newNode(b, mn, dssync.MutexWrap(datastore.NewMapDatastore()), Options{})
		fx.load(b, bn.r, false)
		if err := mn.LinkAll(); err != nil {
			b.Fatal(err)
		}
		if _, err := mn.ConnectPeers(bn.h.ID(), a.h.ID()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		baselineBytes = idList(b, bn.r)
		baselineTime = time.Since(start)
		b.StartTimer()

		var err error
		st, err = bn.s.Sync(ctx, a.h.ID())
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if bn.r.Digest() != a.r.Digest() {
			b.Fatal("not converged")
		}
		for pub, m := range a.r.Marks() {
			if bn.r.Marks()[pub] != m {
				b.Fatalf("mark of %s: %d, want %d", pub, bn.r.Marks()[pub], m)
			}
		}
		_ = bn.s.Close()
		_ = bn.h.Close()
		b.StartTimer()
	}
	overhead := st.BytesSent + st.BytesReceived - (st.EntryBytes - st.CheckpointB)
	b.ReportMetric(float64(st.RoundTrips), "round_trips")
	b.ReportMetric(float64(st.Entries-st.Checkpoints), "entries")
	b.ReportMetric(float64(st.Checkpoints), "checkpoints")
	b.ReportMetric(float64(st.CheckpointB), "checkpoint_B")
	b.ReportMetric(float64(st.EntryBytes-st.CheckpointB), "entry_B")
	b.ReportMetric(float64(overhead), "overhead_B")
	b.ReportMetric(float64(baselineBytes), "idlist_B")
	b.ReportMetric(float64(baselineBytes)/float64(overhead), "idlist/overhead")
	b.ReportMetric(float64(baselineTime.Milliseconds()), "idlist_build_ms")
}

// idList builds the naive reconciliation message: the id of every entry
// the replica holds.
func idList(b *testing.B, r *replica.Replica) int {
	var buf []byte
	for _, ps := range r.Publishers() {
		if err := r.Since(context.Background(), ps.Publisher, 0, func(e *schema.Entry) error {
			id := e.ID()
			buf = append(buf, id[:]...)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return len(buf)
}
