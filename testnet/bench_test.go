package testnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/testnet/poll"
)

// deliveryTracer timestamps, per node, the first delivery of each payload
// and counts full-message sends (messages inside outgoing RPCs).
type deliveryTracer struct {
	node  int
	state *deliveries
}

type deliveries struct {
	sends atomic.Int64
	mu    sync.Mutex
	at    map[[32]byte]map[int]time.Time
}

func (d *deliveryTracer) DeliverMessage(msg *pubsub.Message) {
	id := sha256.Sum256(msg.GetData())
	now := time.Now()
	d.state.mu.Lock()
	defer d.state.mu.Unlock()
	m := d.state.at[id]
	if m == nil {
		m = map[int]time.Time{}
		d.state.at[id] = m
	}
	if _, ok := m[d.node]; !ok {
		m[d.node] = now
	}
}

func (d *deliveryTracer) SendRPC(rpc *pubsub.RPC, _ peer.ID) {
	d.state.sends.Add(int64(len(rpc.GetPublish())))
}

func (*deliveryTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*deliveryTracer) OnClosedOutboundStream(peer.ID)                       {}
func (*deliveryTracer) Join(string)                                          {}
func (*deliveryTracer) Leave(string)                                         {}
func (*deliveryTracer) Graft(peer.ID, string)                                {}
func (*deliveryTracer) Prune(peer.ID, string)                                {}
func (*deliveryTracer) ValidateMessage(*pubsub.Message)                      {}
func (*deliveryTracer) RejectMessage(*pubsub.Message, string)                {}
func (*deliveryTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*deliveryTracer) ThrottlePeer(peer.ID)                                 {}
func (*deliveryTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*deliveryTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*deliveryTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*deliveryTracer) UndeliverableMessage(*pubsub.Message)                 {}

// BenchmarkPublishLatency publishes one record at a time from a random node
// and measures how long gossip takes to deliver it to every other node, and
// how many full-message sends it costs relative to the minimum n−1. The
// stock sub-benchmark runs gossipsub's library defaults on the same
// topology in the same run: the baseline. Catch-up is off, so only gossip
// counts. Run with a fixed count (-benchtime=100x): each sub-benchmark
// builds its own federation.
func BenchmarkPublishLatency(b *testing.B) {
	for _, n := range []int{10, 30, 60} {
		for _, mode := range []string{"tuned", "stock"} {
			b.Run(fmt.Sprintf("N=%d/%s", n, mode), func(b *testing.B) {
				benchPublish(b, n, mode == "stock", 8)
			})
		}
	}
	// Every node linked to every other, as the redial loop links the
	// online members of a federation of this size.
	for _, n := range []int{30, 60} {
		for _, mode := range []string{"tuned", "stock"} {
			b.Run(fmt.Sprintf("N=%d-all-linked/%s", n, mode), func(b *testing.B) {
				benchPublish(b, n, mode == "stock", 0)
			})
		}
	}
}

// benchPublish links each node to degree random others plus a ring (0:
// to every other node).
func benchPublish(b *testing.B, n int, stock bool, degree int) {
	state := &deliveries{at: map[[32]byte]map[int]time.Time{}}
	net := NewInProc(b, n, Options{
		Degree:        degree,
		Seed:          uint64(n),
		StockGossip:   stock,
		NoAutoCatchup: true,
		Tracer:        func(i int) pubsub.RawTracer { return &deliveryTracer{node: i, state: state} },
	})
	ctx := context.Background()
	var perNode, toAll []time.Duration
	delivered, expected := 0, 0
	startSends := state.sends.Load()
	b.ResetTimer()
	for k := range b.N {
		i := net.rng.IntN(n)
		t0 := time.Now()
		e, _, err := net.PublishRandom(ctx, i)
		if err != nil {
			b.Fatal(err)
		}
		id := sha256.Sum256(e.Marshal())
		var got map[int]time.Time
		poll.Wait(3*time.Second, time.Millisecond, func() bool {
			state.mu.Lock()
			got = maps(state.at[id])
			state.mu.Unlock()
			delete(got, i) // the publisher's own delivery is not traced
			return len(got) >= n-1
		})
		expected += n - 1
		var last time.Duration
		for _, at := range got {
			delivered++
			d := at.Sub(t0)
			perNode = append(perNode, d)
			last = max(last, d)
		}
		if len(got) >= n-1 {
			toAll = append(toAll, last)
		}
		_ = k
	}
	b.StopTimer()
	sends := state.sends.Load() - startSends
	b.ReportMetric(pct(perNode, 50), "p50_ms")
	b.ReportMetric(pct(perNode, 99), "p99_ms")
	b.ReportMetric(pct(toAll, 99), "all_p99_ms")
	b.ReportMetric(float64(delivered)/float64(expected)*100, "delivered_%")
	b.ReportMetric(float64(sends)/float64(b.N*(n-1)), "sends/min")
}

func maps(m map[int]time.Time) map[int]time.Time {
	out := make(map[int]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}
