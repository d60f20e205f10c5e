package testnet

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
)

// Options shape an in-process federation.
type Options struct {
	// Degree is how many random others each node is linked to; every
	// node is also linked to the next one in a ring, so the graph is
	// connected. 0 (or ≥ n-1) means a full mesh.
	Degree int
	// Seed makes keys, topology and random publishes reproducible.
	Seed uint64
	// StockGossip runs every node with gossipsub's library defaults.
	StockGossip bool
	// GossipTuning replaces the tuned router variant (benchmarks).
	GossipTuning *topics.Tuning
	// Tracer, when set, gives node i a pubsub tracer.
	Tracer func(i int) pubsub.RawTracer
	// NoGossip lists nodes that receive only by catch-up.
	NoGossip []int
	// NoAutoCatchup turns off catch-up on connect and on the interval on
	// every node; tests then call Sync explicitly.
	NoAutoCatchup bool
	// CatchupInterval for every node (default: the federation's).
	CatchupInterval time.Duration
	// Logger for every node (default: discard).
	Logger *slog.Logger
}

// Node is one member of an in-process federation.
type Node struct {
	Index int
	Key   ed25519.PrivateKey
	Store replica.Datastore
	Host  host.Host
	Fed   *federation.Federation // nil while stopped
	mine  map[string]bool        // own offering keys, true while live
}

// InProc is a federation of nodes in one process over a mocknet.
type InProc struct {
	tb    testing.TB
	opts  Options
	mn    mocknet.Mocknet
	Nodes []*Node

	mu    sync.Mutex
	rng   *rand.Rand
	edges map[[2]int]bool // topology, a < b
	cut   map[[2]int]bool // edges removed by Partition
}

// NewInProc builds and starts n federations on a mocknet, links them per
// opts and connects every linked pair. The federation is closed when the
// test ends.
func NewInProc(tb testing.TB, n int, opts Options) *InProc {
	tb.Helper()
	net := &InProc{
		tb:    tb,
		opts:  opts,
		mn:    mocknet.New(),
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		edges: map[[2]int]bool{},
		cut:   map[[2]int]bool{},
	}
	tb.Cleanup(func() {
		if err := net.Close(); err != nil {
			tb.Errorf("close in-process federation: %v", err)
		}
	})
	for i := range n {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(net.rng.UintN(256))
		}
		key := ed25519.NewKeyFromSeed(seed)
		h, err := net.addHost(key, i)
		if err != nil {
			tb.Fatalf("node %d host: %v", i, err)
		}
		net.Nodes = append(net.Nodes, &Node{
			Index: i,
			Key:   key,
			Store: replica.NewMemory(),
			Host:  h,
			mine:  map[string]bool{},
		})
	}
	net.topology(n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, nd := range net.Nodes {
		if err := net.start(ctx, nd); err != nil {
			tb.Fatalf("start node %d: %v", nd.Index, err)
		}
	}
	for e := range net.edges {
		if _, err := net.mn.ConnectPeers(net.Nodes[e[0]].Host.ID(), net.Nodes[e[1]].Host.ID()); err != nil {
			tb.Fatalf("connect %d-%d: %v", e[0], e[1], err)
		}
	}
	if err := net.WaitTopicPeers(ctx); err != nil {
		tb.Fatal(err)
	}
	return net
}

// WaitTopicPeers waits until every running node knows each of its
// connected gossiping neighbours as a subscriber of every topic: until
// then a publish may not reach them.
func (net *InProc) WaitTopicPeers(ctx context.Context) error {
	gossips := func(i int) bool { return !slices.Contains(net.opts.NoGossip, i) }
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ready, why := true, ""
		for _, nd := range net.Up() {
			if !gossips(nd.Index) {
				continue // not subscribed: no topic peers to learn, no mesh
			}
			want := 0
			for _, j := range net.Neighbours(nd.Index) {
				if gossips(j) && net.Nodes[j].Fed != nil && len(nd.Host.Network().ConnsToPeer(net.Nodes[j].Host.ID())) > 0 {
					want++
				}
			}
			for name, got := range nd.Fed.TopicPeerIDs() {
				if len(got) < want {
					ready, why = false, fmt.Sprintf("node %d knows %d of %d peers on %s%s", nd.Index, len(got), want, name, net.missing(nd, name, got))
				}
			}
			// The mesh forms on heartbeats after the peers are known; a
			// message received before then is forwarded to no one. One
			// GRAFT shows that heartbeats have run. Waiting for mesh
			// peers instead can hang: with a thin mesh (Dhi 2 or 4)
			// neighbours whose mesh is full prune a late grafter, or
			// refuse its GRAFT, and the pruning backoff lasts a minute;
			// flood publish and gossip repair cover such a node.
			for name, got := range nd.Fed.Grafts() {
				if got < min(want, 1) {
					ready, why = false, fmt.Sprintf("node %d has made no GRAFT on %s", nd.Index, name)
				}
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gossip not ready (%s): %w", why, ctx.Err())
		case <-tick.C:
		}
	}
}

// missing describes the connected gossiping neighbours of nd that it does
// not know as subscribers of topic: whether they know nd, and the streams
// of their connections, for a readiness failure's message.
func (net *InProc) missing(nd *Node, topic string, known []peer.ID) string {
	var out strings.Builder
	for _, j := range net.Neighbours(nd.Index) {
		o := net.Nodes[j]
		if o.Fed == nil || slices.Contains(net.opts.NoGossip, j) || slices.Contains(known, o.Host.ID()) {
			continue
		}
		conns := nd.Host.Network().ConnsToPeer(o.Host.ID())
		if len(conns) == 0 {
			continue
		}
		back := slices.Contains(o.Fed.TopicPeerIDs()[topic], nd.Host.ID())
		// Identify tells each side the other's protocols; pubsub adds a
		// peer only when it completes.
		ours, _ := nd.Host.Peerstore().GetProtocols(o.Host.ID())
		theirs, _ := o.Host.Peerstore().GetProtocols(nd.Host.ID())
		fmt.Fprintf(&out, "; missing node %d (knows us: %v; protocols known here %d, there %d; our stream to it closed %d times, its to us %d; %d conns, streams:",
			j, back, len(ours), len(theirs), nd.Fed.GossipStreamsClosed(o.Host.ID()), o.Fed.GossipStreamsClosed(nd.Host.ID()), len(conns))
		for _, c := range conns {
			for _, st := range c.GetStreams() {
				fmt.Fprintf(&out, " %s/%s", st.Protocol(), st.Stat().Direction)
			}
		}
		out.WriteString(")")
	}
	return out.String()
}

// addHost adds a mocknet host with key. Each node gets its own address so
// that peer scoring sees distinct IPs, as in a real federation.
func (net *InProc) addHost(key ed25519.PrivateKey, i int) (host.Host, error) {
	k, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, err
	}
	a, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4001", (i>>16)&0xff, (i>>8)&0xff, i&0xff))
	if err != nil {
		return nil, err
	}
	return net.mn.AddPeer(k, a)
}

func (net *InProc) topology(n int) {
	link := func(a, b int) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		if net.edges[[2]int{a, b}] {
			return
		}
		net.edges[[2]int{a, b}] = true
		if _, err := net.mn.LinkPeers(net.Nodes[a].Host.ID(), net.Nodes[b].Host.ID()); err != nil {
			net.tb.Fatalf("link %d-%d: %v", a, b, err)
		}
	}
	if net.opts.Degree <= 0 || net.opts.Degree >= n-1 {
		for a := range n {
			for b := a + 1; b < n; b++ {
				link(a, b)
			}
		}
		return
	}
	for a := range n {
		link(a, (a+1)%n)
		for range net.opts.Degree - 1 {
			link(a, net.rng.IntN(n))
		}
	}
}

func (net *InProc) start(ctx context.Context, nd *Node) error {
	noGossip := false
	for _, i := range net.opts.NoGossip {
		noGossip = noGossip || i == nd.Index
	}
	cfg := federation.Config{
		Key:             nd.Key,
		Datastore:       nd.Store,
		Host:            nd.Host,
		Logger:          net.opts.Logger,
		CatchupInterval: net.opts.CatchupInterval,
		StockGossip:     net.opts.StockGossip,
		GossipTuning:    net.opts.GossipTuning,
		Topology:        net.expected(),
		DisableGossip:   noGossip,
		DisableCatchup:  net.opts.NoAutoCatchup,
	}
	if net.opts.Tracer != nil {
		cfg.Tracer = net.opts.Tracer(nd.Index)
	}
	if cfg.Logger != nil { // the federation's lines leave naming the node to its caller
		cfg.Logger = cfg.Logger.With("node", nd.Host.ID().String())
	}
	f, err := federation.New(cfg)
	if err != nil {
		return err
	}
	if err := f.Start(ctx); err != nil {
		return err
	}
	nd.Fed = f
	return nil
}

// expected is what a node of this federation knows of its links when it
// starts, as a real node would from its replica and the redial loop: the
// member count, and every other member linked unless Degree says fewer.
func (net *InProc) expected() topics.Topology {
	n := len(net.Nodes)
	if net.opts.Degree <= 0 || net.opts.Degree >= n-1 {
		return topics.Topology{Members: n, Linked: n - 1}
	}
	return topics.Topology{Members: n, Linked: net.opts.Degree}
}

// Mocknet exposes the simulated network, for tests that add raw hosts.
func (net *InProc) Mocknet() mocknet.Mocknet { return net.mn }

// Neighbours returns the indexes linked to node i in the topology.
func (net *InProc) Neighbours(i int) []int {
	var out []int
	for e := range net.edges {
		switch i {
		case e[0]:
			out = append(out, e[1])
		case e[1]:
			out = append(out, e[0])
		}
	}
	return out
}

// Up returns the running nodes.
func (net *InProc) Up() []*Node {
	var up []*Node
	for _, nd := range net.Nodes {
		if nd.Fed != nil {
			up = append(up, nd)
		}
	}
	return up
}

func (net *InProc) setEdge(a, b int, on bool) error {
	pa, pb := net.Nodes[a].Host.ID(), net.Nodes[b].Host.ID()
	if !on {
		if err := net.mn.UnlinkPeers(pa, pb); err != nil {
			return fmt.Errorf("unlink %d-%d: %w", a, b, err)
		}
		// Unlinking leaves open connections alone; a partition cuts them.
		return net.mn.DisconnectPeers(pa, pb)
	}
	if len(net.mn.LinksBetweenPeers(pa, pb)) == 0 {
		if _, err := net.mn.LinkPeers(pa, pb); err != nil {
			return fmt.Errorf("link %d-%d: %w", a, b, err)
		}
	}
	if _, err := net.mn.ConnectPeers(pa, pb); err != nil {
		return fmt.Errorf("connect %d-%d: %w", a, b, err)
	}
	return nil
}

// Partition cuts every link between a node of a and a node of b.
func (net *InProc) Partition(a, b []int) error {
	net.mu.Lock()
	defer net.mu.Unlock()
	inB := map[int]bool{}
	for _, y := range b {
		inB[y] = true
	}
	for _, x := range a {
		for e := range net.edges {
			if (e[0] == x && inB[e[1]]) || (e[1] == x && inB[e[0]]) {
				if net.cut[e] {
					continue
				}
				if err := net.setEdge(e[0], e[1], false); err != nil {
					return err
				}
				net.cut[e] = true
			}
		}
	}
	return nil
}

// Heal restores every link cut by Partition (between running nodes).
func (net *InProc) Heal() error {
	net.mu.Lock()
	defer net.mu.Unlock()
	for e := range net.cut {
		if net.Nodes[e[0]].Fed == nil || net.Nodes[e[1]].Fed == nil {
			continue
		}
		if err := net.setEdge(e[0], e[1], true); err != nil {
			return err
		}
		delete(net.cut, e)
	}
	return nil
}

// Stop takes node i off the network and closes its federation, keeping
// its key, host and datastore for Restart.
func (net *InProc) Stop(i int) error {
	net.mu.Lock()
	defer net.mu.Unlock()
	nd := net.Nodes[i]
	if nd.Fed == nil {
		return nil
	}
	for _, j := range net.Neighbours(i) {
		if err := net.setEdge(i, j, false); err != nil {
			return err
		}
	}
	err := nd.Fed.Close()
	nd.Fed = nil
	return err
}

// Restart starts node i again on its datastore and reconnects it to its
// neighbours (except across a partition).
func (net *InProc) Restart(ctx context.Context, i int) error {
	net.mu.Lock()
	defer net.mu.Unlock()
	nd := net.Nodes[i]
	if nd.Fed != nil {
		return nil
	}
	if err := net.start(ctx, nd); err != nil {
		return err
	}
	for _, j := range net.Neighbours(i) {
		a, b := min(i, j), max(i, j)
		if net.cut[[2]int{a, b}] || net.Nodes[j].Fed == nil {
			continue
		}
		if err := net.setEdge(i, j, true); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every federation and the mocknet. Idempotent.
func (net *InProc) Close() error {
	net.mu.Lock()
	defer net.mu.Unlock()
	var errs []error
	for _, nd := range net.Nodes {
		if nd.Fed != nil {
			errs = append(errs, nd.Fed.Close())
			nd.Fed = nil
		}
	}
	if net.mn != nil {
		errs = append(errs, net.mn.Close())
		net.mn = nil
	}
	return errors.Join(errs...)
}

// Op is what PublishRandom did.
type Op int

const (
	OpNew Op = iota
	OpUpdate
	OpWithdraw
)

// PublishRandom makes node i publish a new offering, update one of its
// live offerings or withdraw one, at random (a new one when it has none).
func (net *InProc) PublishRandom(ctx context.Context, i int) (*schema.Entry, Op, error) {
	net.mu.Lock()
	nd := net.Nodes[i]
	var live []string
	for k, ok := range nd.mine {
		if ok {
			live = append(live, k)
		}
	}
	op := OpNew
	key := ""
	if len(live) > 0 {
		switch r := net.rng.IntN(10); {
		case r < 4:
			op = OpUpdate
		case r < 6:
			op = OpWithdraw
		}
	}
	if op == OpNew {
		key = newUUID(net.rng)
	} else {
		// Map order is random but not seeded: sort for reproducibility.
		slices.Sort(live)
		key = live[net.rng.IntN(len(live))]
	}
	body := OfferingBody(net.rng, key)
	f := nd.Fed
	net.mu.Unlock()
	if f == nil {
		return nil, op, fmt.Errorf("node %d is stopped", i)
	}
	var e *schema.Entry
	var err error
	if op == OpWithdraw {
		e, err = f.Withdraw(ctx, schema.KindOffering, key)
	} else {
		e, err = f.Publish(ctx, schema.KindOffering, key, body)
	}
	if e != nil {
		net.mu.Lock()
		nd.mine[key] = op != OpWithdraw
		net.mu.Unlock()
	}
	return e, op, err
}

// WaitConverged waits until every running node holds the same replica
// digest, polling until ctx ends.
func (net *InProc) WaitConverged(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		distinct := net.Digests()
		if len(distinct) == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not converged: %d distinct digests among %d nodes: %w", len(distinct), len(net.Up()), ctx.Err())
		case <-tick.C:
		}
	}
}

// Digests returns the running nodes grouped by replica digest.
func (net *InProc) Digests() map[[32]byte][]int {
	out := map[[32]byte][]int{}
	for _, nd := range net.Up() {
		d := nd.Fed.Replica().Digest()
		out[d] = append(out[d], nd.Index)
	}
	return out
}

// OfferingBody returns a valid offering body for key, with random text.
func OfferingBody(rng *rand.Rand, key string) []byte {
	o := schema.Offering{
		ID:          key,
		Name:        fmt.Sprintf("Assistenza domiciliare %d", rng.IntN(1_000_000)),
		Description: fmt.Sprintf("Visite a domicilio per persone anziane, turno %d.", rng.IntN(1000)),
		Category:    "anziani.assistenza-domiciliare",
		Cost:        schema.Cost{Type: schema.CostFree},
		Delivery:    schema.DeliveryIndividual,
		Areas:       []string{"080063"},
		Languages:   []string{"it"},
		Contact:     schema.Contact{Email: "info@example.org"},
		Status:      schema.StatusActive,
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // a fixed struct of strings always marshals
	}
	return b
}

func newUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
