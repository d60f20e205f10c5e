package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/difronte/difronte/federation/catchup"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
)

// ErrNotStarted is returned by operations that need a started Federation.
var ErrNotStarted = errors.New("federation not started")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("federation closed")

// A burst (a partition healing, a coop importing its whole catalogue) can
// bring thousands of entries at once. The subscription buffer holds them
// while the receiver applies them in batches of applyBatch; pubsub drops
// what overflows (catch-up would then repair it, but later).
const (
	subBuffer  = 4096
	applyBatch = 256
)

// Federation is one node's membership of the federation: its libp2p host,
// the gossipsub topics, the verified replica of the public records and the
// catch-up service that repairs what gossip missed.
type Federation struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	started bool
	closed  bool

	ctx    context.Context // lives from Start to Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	host     host.Host
	guarded  *budgetedHost // host, with every stream handler set on it behind a per-peer budget
	metrics  *metrics
	ownHost  bool
	rep      *replica.Replica
	ps       *pubsub.PubSub
	psCancel context.CancelFunc
	topics   map[string]*pubsub.Topic
	subs     []*pubsub.Subscription
	cu       *catchup.Service
	mesh     *meshTracer
	links    *linkBook // mesh peers' links (topics.Tuning.ForwardUnlinked); nil: not asked
	events   event.Subscription
	syncReq  chan peer.ID
	cpKick   chan struct{} // own log changed: checkpoint soon (checkpoint.go)
}

// New checks cfg and returns an unstarted Federation. It does no I/O.
func New(cfg Config) (*Federation, error) {
	c := cfg.withDefaults()
	if _, err := identity(c.Key); err != nil {
		return nil, err
	}
	if _, err := parseBootstrap(c.Bootstrap); err != nil {
		return nil, err
	}
	if c.Host != nil {
		want := schema.PeerIDFromPublicKey(c.Key.Public().(ed25519.PublicKey))
		if c.Host.ID().String() != want {
			return nil, fmt.Errorf("injected host is %s, node key is %s", c.Host.ID(), want)
		}
	}
	return &Federation{cfg: c, log: c.Logger.With("component", "federation"), metrics: newMetrics()}, nil
}

// Start opens the replica, builds the host and the gossipsub router, joins
// the topics, connects to the bootstrap peers and starts catching up. It
// returns when the node can publish and receive. On error everything
// started so far is closed again.
func (f *Federation) Start(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if f.started {
		return errors.New("federation already started")
	}
	if err := f.start(ctx); err != nil {
		f.shutdown()
		return err
	}
	f.started = true
	return nil
}

func (f *Federation) start(ctx context.Context) error {
	f.ctx, f.cancel = context.WithCancel(context.Background())
	ds := f.cfg.Datastore
	if ds == nil {
		ds = replica.NewMemory()
	}
	rep, err := replica.Open(ctx, ds)
	if err != nil {
		return fmt.Errorf("open replica: %w", err)
	}
	f.rep = rep

	bootstrap, err := parseBootstrap(f.cfg.Bootstrap)
	if err != nil {
		return err
	}
	if f.cfg.Host != nil {
		f.host = f.cfg.Host
	} else {
		h, err := newHost(f.cfg, bootstrap)
		if err != nil {
			return err
		}
		f.host, f.ownHost = h, true
	}
	f.guarded = newBudgetedHost(f.host, f.cfg.Clock, f.metrics)
	if f.cfg.Metrics != nil {
		if err := f.metrics.register(f.cfg.Metrics, func() int { return len(f.host.Network().Peers()) }); err != nil {
			return err
		}
	}

	// Subscribe to connection events before anything connects, so no new
	// peer misses its catch-up.
	f.events, err = f.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return fmt.Errorf("subscribe to connection events: %w", err)
	}
	idFailed, err := f.host.EventBus().Subscribe([]any{new(event.EvtPeerIdentificationFailed),
		new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerConnectednessChanged)})
	if err != nil {
		return fmt.Errorf("subscribe to identify events: %w", err)
	}
	f.wg.Add(1)
	go f.watchIdentify(idFailed)
	f.cu = catchup.New(f.host, f.rep, catchup.Options{Logger: f.cfg.Logger, Clock: f.cfg.Clock, Observe: f.metrics.catchup})

	if err := f.startGossip(); err != nil {
		return err
	}

	f.syncReq = make(chan peer.ID, 256)
	f.cpKick = make(chan struct{}, 1)
	f.wg.Add(3)
	go f.watchConnections()
	go f.catchupLoop()
	go f.checkpointLoop()

	for _, ai := range bootstrap {
		f.host.ConnManager().Protect(ai.ID, "bootstrap")
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f.host.Connect(cctx, ai)
		cancel()
		if err != nil {
			// A lone node is a valid federation; keep going and let the
			// periodic loop retry.
			f.log.Warn("bootstrap peer unreachable", "peer", ai.ID.String(), "err", err)
		}
	}
	return nil
}

func (f *Federation) startGossip() error {
	topo := f.topology()
	tuning := topics.TunedFor(topo)
	if f.cfg.GossipTuning != nil {
		tuning = *f.cfg.GossipTuning
	}
	f.log.Debug("gossip router", "members", topo.Members, "linked", topo.Linked, "dense", topo.Dense())
	opts := topics.OptionsFor(loopback(), tuning)
	if f.cfg.StockGossip {
		opts = topics.StockOptions()
		tuning = topics.Tuning{}
	}
	f.mesh = newMeshTracer()
	if tuning.AdaptiveHold {
		f.mesh.holds = newHoldGauge()
	}
	if tuning.ForwardUnlinked {
		f.links = newLinkBook()
		f.mesh.kick = make(chan struct{}, 1)
	}
	opts = append(opts, pubsub.WithRawTracer(f.mesh))
	if f.cfg.Tracer != nil {
		opts = append(opts, pubsub.WithRawTracer(f.cfg.Tracer))
	}
	opts = append(opts, pubsub.WithLogger(f.cfg.Logger.With("component", "pubsub")))
	psctx, cancel := context.WithCancel(context.Background())
	ps, err := pubsub.NewGossipSub(psctx, f.host, opts...)
	if err != nil {
		cancel()
		return fmt.Errorf("gossipsub: %w", err)
	}
	f.ps, f.psCancel = ps, cancel
	f.topics = make(map[string]*pubsub.Topic)
	serveLinks(f.guarded, func() []peer.ID { return f.host.Network().Peers() })
	var unlinked func(topic string, from, pub peer.ID) bool
	if f.links != nil {
		unlinked = f.meshUnlinked
		f.wg.Add(1)
		go f.linksLoop(f.mesh.kick)
	}
	early := newEarlyApplier(f.rep, f.log)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		early.run(f.ctx)
	}()
	for _, name := range topics.All() {
		v := relay{
			v:     topics.ValidatorObserved(name, f.host.ID(), f.rep, f.log, f.cfg.Clock, f.metrics.gossip),
			self:  f.host.ID(),
			apply: early.offer,
			hold:  tuning.RelayDelay, relayedHold: tuning.RelayedDelay, holds: f.mesh.holds,
			unlinked: unlinked,
		}
		if err := ps.RegisterTopicValidator(name, v.validate); err != nil {
			return fmt.Errorf("validator for %s: %w", name, err)
		}
		t, err := ps.Join(name)
		if err != nil {
			return fmt.Errorf("join %s: %w", name, err)
		}
		f.topics[name] = t
		if f.cfg.DisableGossip {
			continue
		}
		sub, err := t.Subscribe(pubsub.WithBufferSize(subBuffer))
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", name, err)
		}
		f.subs = append(f.subs, sub)
		f.wg.Add(1)
		go f.receive(sub)
	}
	return nil
}

// topology is what the node expects of its links (Config.Topology).
func (f *Federation) topology() topics.Topology {
	if f.cfg.Topology != (topics.Topology{}) {
		return f.cfg.Topology
	}
	members := len(f.rep.Publishers())
	if members <= 1 {
		return topics.Topology{} // a first start: not known yet
	}
	return topics.Topology{Members: members, Linked: min(members-1, connLow)}
}

// receive applies every accepted message of sub to the replica. Only
// messages that passed the validator reach here, carrying their decoded
// entry, which the validator has usually applied already (relay.go): then
// applying it again changes nothing. Whatever is already queued is applied
// as one batch: one datastore commit for a burst instead of one per entry,
// so the loop keeps up and the subscription buffer does not overflow
// (pubsub drops what does not fit).
func (f *Federation) receive(sub *pubsub.Subscription) {
	defer f.wg.Done()
	self := f.host.ID()
	batch := make([]*schema.Entry, 0, applyBatch)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	add := func(msg *pubsub.Message) {
		if msg.ReceivedFrom == self {
			return // our own publish, applied by Append
		}
		if e, ok := msg.ValidatorData.(*schema.Entry); ok {
			batch = append(batch, e)
		}
	}
	for {
		msg, err := sub.Next(f.ctx)
		if err != nil {
			return
		}
		add(msg)
		for len(batch) < applyBatch {
			more, ok := tryNext(done, sub)
			if !ok {
				break
			}
			add(more)
		}
		if len(batch) == 0 {
			continue
		}
		if _, err := f.rep.ApplyBatch(f.ctx, batch); err != nil && f.ctx.Err() == nil {
			f.log.Warn("apply gossip entries failed", "entries", len(batch), "err", err)
		}
		clear(batch)
		batch = batch[:0]
	}
}

// tryNext returns a message already queued on sub, without waiting, given
// a cancelled ctx. (Next picks at random between a ready message and a
// done context, so a burst may be split over more batches; none is lost.)
func tryNext(done context.Context, sub *pubsub.Subscription) (*pubsub.Message, bool) {
	msg, err := sub.Next(done)
	return msg, err == nil
}

func (f *Federation) ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return ErrClosed
	case !f.started:
		return ErrNotStarted
	}
	return nil
}

// TopicPeers returns, per topic, how many connected peers are known to
// be subscribed to it.
func (f *Federation) TopicPeers() map[string]int {
	out := make(map[string]int, len(f.topics))
	for name, t := range f.topics {
		out[name] = len(t.ListPeers())
	}
	return out
}

// TopicPeerIDs returns, per topic, the connected peers known to be
// subscribed to it.
func (f *Federation) TopicPeerIDs() map[string][]peer.ID {
	out := make(map[string][]peer.ID, len(f.topics))
	for name, t := range f.topics {
		out[name] = t.ListPeers()
	}
	return out
}

// GossipStreamsClosed returns how many times the router's outbound stream
// to p has closed since start (a diagnostic: the router then forgets p's
// subscriptions until p announces them again).
func (f *Federation) GossipStreamsClosed(p peer.ID) int { return f.mesh.streamsClosed(p) }

// MeshPeers returns, per topic, how many peers are in the node's gossip
// mesh: the peers it forwards to. Zero means a message received now would
// reach no one but direct topic peers of its publisher.
func (f *Federation) MeshPeers() map[string]int {
	out := make(map[string]int, len(f.topics))
	for name := range f.topics {
		out[name] = f.mesh.size(name)
	}
	return out
}

// Grafts returns, per topic, how many GRAFTs the node has made or
// accepted since it started, including those later pruned. One or more
// shows that the router's heartbeat has run with topic peers known; the
// mesh itself may be empty again, for a node whose neighbours all have
// full meshes and pruned it (it still gets every entry by flood publish
// from its neighbours' publishers and by gossip, IHAVE/IWANT).
func (f *Federation) Grafts() map[string]int {
	out := make(map[string]int, len(f.topics))
	for name := range f.topics {
		out[name] = f.mesh.grafted(name)
	}
	return out
}

// Replica returns the node's verified replica of the federated records.
func (f *Federation) Replica() *replica.Replica { return f.rep }

// Host returns the libp2p host (nil before Start). A stream handler set
// on it serves each peer within that peer's budget for the protocol
// (streams.go): what the node's domains serve over libp2p is limited
// without each of them having to.
func (f *Federation) Host() host.Host {
	if f.guarded == nil {
		return nil
	}
	return f.guarded
}

// PeerID returns the node's peer ID, which is also its publisher ID.
func (f *Federation) PeerID() string {
	return schema.PeerIDFromPublicKey(f.cfg.Key.Public().(ed25519.PublicKey))
}

// Addrs returns the node's addresses as full multiaddrs ending in
// /p2p/<id>, ready to hand to another node's Connect or Bootstrap.
func (f *Federation) Addrs() []string {
	if f.host == nil {
		return nil
	}
	p2p, err := ma.NewComponent("p2p", f.host.ID().String())
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range f.host.Addrs() {
		out = append(out, a.Encapsulate(p2p.Multiaddr()).String())
	}
	return out
}

// Connect dials a peer given by a full multiaddr ending in /p2p/<id>.
func (f *Federation) Connect(ctx context.Context, addr string) error {
	if err := f.ready(); err != nil {
		return err
	}
	ai, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("connect %q: %w", addr, err)
	}
	if err := f.host.Connect(ctx, *ai); err != nil {
		return fmt.Errorf("connect %s: %w", ai.ID, err)
	}
	return nil
}

// Peers returns the IDs of the connected peers.
func (f *Federation) Peers() []string {
	if f.host == nil {
		return nil
	}
	ps := f.host.Network().Peers()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Close stops the federation in reverse order of Start: background loops,
// subscriptions and topics, the router, catch-up, then the host if it
// built it. It is idempotent.
func (f *Federation) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	return f.shutdown()
}

func (f *Federation) shutdown() error {
	var errs []error
	if f.cancel != nil {
		f.cancel()
	}
	if f.events != nil {
		errs = append(errs, f.events.Close())
	}
	for _, s := range f.subs {
		s.Cancel()
	}
	f.wg.Wait()
	for _, t := range f.topics {
		if err := t.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if f.psCancel != nil {
		f.psCancel()
	}
	if f.cu != nil {
		errs = append(errs, f.cu.Close())
	}
	if f.ownHost && f.host != nil {
		errs = append(errs, f.host.Close())
	}
	return errors.Join(errs...)
}

// loopback is exempt from the IP-colocation penalty: see topics.ScoreParams.
func loopback() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
}
