package testnet

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// deliveryTracer counts full-message sends (messages inside outgoing
// RPCs) and the message ids asked for by IWANT.
type deliveryTracer struct {
	node  int
	state *deliveries
}

// deliveries holds, per payload, when each node first held it in its
// replica (the moment its users can see it), and the send counts.
type deliveries struct {
	sends atomic.Int64
	iwant atomic.Int64 // message ids asked for by IWANT: each answer is a full send
	mu    sync.Mutex
	at    map[[32]byte]map[int]time.Time
}

// applied records that node i holds e from now on.
func (d *deliveries) applied(i int, e *schema.Entry) {
	id := sha256.Sum256(e.Marshal())
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.at[id]
	if m == nil {
		m = map[int]time.Time{}
		d.at[id] = m
	}
	if _, ok := m[i]; !ok {
		m[i] = now
	}
}

func (d *deliveryTracer) SendRPC(rpc *pubsub.RPC, _ peer.ID) {
	d.state.sends.Add(int64(len(rpc.GetPublish())))
	for _, w := range rpc.GetControl().GetIwant() {
		d.state.iwant.Add(int64(len(w.GetMessageIDs())))
	}
}

func (*deliveryTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*deliveryTracer) OnClosedOutboundStream(peer.ID)                       {}
func (*deliveryTracer) Join(string)                                          {}
func (*deliveryTracer) Leave(string)                                         {}
func (*deliveryTracer) Graft(peer.ID, string)                                {}
func (*deliveryTracer) Prune(peer.ID, string)                                {}
func (*deliveryTracer) ValidateMessage(*pubsub.Message)                      {}
func (*deliveryTracer) DeliverMessage(*pubsub.Message)                       {}
func (*deliveryTracer) RejectMessage(*pubsub.Message, string)                {}
func (*deliveryTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*deliveryTracer) ThrottlePeer(peer.ID)                                 {}
func (*deliveryTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*deliveryTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*deliveryTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*deliveryTracer) UndeliverableMessage(*pubsub.Message)                 {}

var (
	benchVariants   = flag.String("gossip.variants", "tuned,stock", "router variants of BenchmarkPublishLatency, in the order run (names in benchVariant)")
	benchTopologies = flag.String("gossip.topologies", "N=10,N=30,N=60,N=30-all-linked,N=60-all-linked", "topologies of BenchmarkPublishLatency")
	benchRounds     = flag.Int("gossip.rounds", 1, "rounds of BenchmarkPublishLatency: each runs every variant once per topology, so the variants alternate")
)

// meshVariant names a candidate by its mesh and holds:
// d<D>[h<µs>[e|r<µs>]], e.g. d3h2000 is D=3 with a 2 ms hold of the
// first hop (the publisher's flood), d4h1000e D=4 with a 1 ms hold at
// every hop, d3h2000r300 D=3 holding the first hop 2 ms and the others
// 300 µs; a suffix b<ms> sets the heartbeat interval, l<n> the gossip
// degree (Dlazy), o<n> the fewest mesh peers (Dlo), x<n> the most (Dhi).
// Dlo is D-1 (at least 1), Dhi D+D/2 (2 when D is 2) unless set.
var meshVariant = regexp.MustCompile(`^d([2-9])(?:h([0-9]+)(?:(e)|r([0-9]+))?)?(?:b([0-9]+))?(?:l([0-9]+))?(?:o([1-9]))?(?:x([2-9]))?$`)

// benchVariant returns the router variant called name: tuned (the
// federation's, topics.TunedFor the topology), stock (gossipsub's
// defaults), or a candidate kept for comparing (docs/BENCHMARKS.md).
func benchVariant(name string, topo topics.Topology) (stock bool, tuning *topics.Tuning, ok bool) {
	t := topics.TunedFor(topo)
	if m := meshVariant.FindStringSubmatch(name); m != nil {
		d, _ := strconv.Atoi(m[1])
		hi := d + d/2
		if d == 2 {
			hi = 2
		}
		t.Params.D, t.Params.Dlo, t.Params.Dhi = d, max(d-1, 1), hi
		t.Params.Dscore = min(t.Params.Dscore, hi)
		us, _ := strconv.Atoi(m[2])
		t.RelayDelay = time.Duration(us) * time.Microsecond
		t.RelayedDelay = 0
		if m[3] == "e" {
			t.RelayedDelay = t.RelayDelay
		} else if m[4] != "" {
			rus, _ := strconv.Atoi(m[4])
			t.RelayedDelay = time.Duration(rus) * time.Microsecond
		}
		if m[5] != "" {
			ms, _ := strconv.Atoi(m[5])
			t.Params.HeartbeatInterval = time.Duration(ms) * time.Millisecond
		}
		if m[6] != "" {
			t.Params.Dlazy, _ = strconv.Atoi(m[6])
		}
		if m[7] != "" {
			t.Params.Dlo, _ = strconv.Atoi(m[7])
		}
		if m[8] != "" {
			t.Params.Dhi, _ = strconv.Atoi(m[8])
			t.Params.Dscore = min(t.Params.Dscore, t.Params.Dhi)
		}
		return false, &t, true
	}
	switch name {
	case "tuned":
		return false, nil, true
	case "stock":
		return true, nil, true
	case "noscore":
		t.NoScore = true
	case "lenient":
		t.BehaviourPenaltyThreshold = 30
		t.Params.IWantFollowupTime = 10 * time.Second
	case "noflood":
		t.FloodPublish = false
	case "adaptive":
		t.AdaptiveHold = true
	case "held":
		// The tuned router before the links protocol (sessions 7-17):
		// the flood's forward held even for a mesh peer the publisher
		// is not linked to.
		t.ForwardUnlinked = false
	default:
		return false, nil, false
	}
	return false, &t, true
}

// BenchmarkPublishLatency publishes one record at a time from a random node
// and measures how long gossip takes to bring it into every other node's
// replica (where the node's users see it: a replica change listener takes
// the time), and how many full-message sends it costs relative to the
// minimum n−1. The
// stock sub-benchmark runs gossipsub's library defaults on the same
// topology in the same run: the baseline. Catch-up is off, so only gossip
// counts. Run with a fixed count (-benchtime=100x): each sub-benchmark
// builds its own federation. With -gossip.rounds k each topology runs its
// variants in turn k times (tuned, stock, tuned, stock, ...), so a load
// that drifts hits both alike; -count k would run each variant k times in
// a row.
//
// Topologies: N nodes each linked to 8 random others plus a ring, or every
// node linked to every other ("all-linked"), as the redial loop links the
// online members of a federation of that size.
func BenchmarkPublishLatency(b *testing.B) {
	for _, topo := range strings.Split(*benchTopologies, ",") {
		var n int
		all := strings.HasSuffix(topo, "-all-linked")
		if _, err := fmt.Sscanf(strings.TrimSuffix(topo, "-all-linked"), "N=%d", &n); err != nil || n < 2 {
			b.Fatalf("topology %q: want N=<n> or N=<n>-all-linked", topo)
		}
		degree := 8
		if all {
			degree = 0
		}
		for range max(*benchRounds, 1) {
			for _, name := range strings.Split(*benchVariants, ",") {
				linked := degree
				if all {
					linked = n - 1
				}
				stock, tuning, ok := benchVariant(name, topics.Topology{Members: n, Linked: linked})
				if !ok {
					b.Fatalf("unknown router variant %q", name)
				}
				b.Run(topo+"/"+name, func(b *testing.B) {
					benchPublish(b, n, stock, tuning, degree)
				})
			}
		}
	}
}

// benchPublish links each node to degree random others plus a ring (0:
// to every other node).
func benchPublish(b *testing.B, n int, stock bool, tuning *topics.Tuning, degree int) {
	state := &deliveries{at: map[[32]byte]map[int]time.Time{}}
	net := NewInProc(b, n, Options{
		Degree:        degree,
		Seed:          uint64(n),
		StockGossip:   stock,
		GossipTuning:  tuning,
		NoAutoCatchup: true,
		Tracer:        func(i int) pubsub.RawTracer { return &deliveryTracer{node: i, state: state} },
	})
	for i, nd := range net.Nodes {
		nd.Fed.Replica().OnChange(func(_, cur *schema.Entry) { state.applied(i, cur) })
	}
	ctx := context.Background()
	var perNode, toAll []time.Duration
	delivered, expected := 0, 0
	startSends, startIwant := state.sends.Load(), state.iwant.Load()
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
			delete(got, i) // the publisher's own append
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
	iwant := state.iwant.Load() - startIwant
	b.ReportMetric(pct(perNode, 50), "p50_ms")
	b.ReportMetric(pct(perNode, 99), "p99_ms")
	b.ReportMetric(pct(toAll, 99), "all_p99_ms")
	b.ReportMetric(float64(delivered)/float64(expected)*100, "delivered_%")
	b.ReportMetric(float64(sends)/float64(b.N*(n-1)), "sends/min")
	b.ReportMetric(float64(iwant)/float64(b.N*(n-1)), "iwant/min")
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
