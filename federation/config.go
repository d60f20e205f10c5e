package federation

import (
	"crypto/ed25519"
	"log/slog"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/federation/topics"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Federation. The zero value of every field is the
// production default.
type Config struct {
	// Key is the node identity: it signs the node's entries and is also
	// its libp2p identity, so a peer ID names a publisher. Required.
	Key ed25519.PrivateKey
	// Listen are the multiaddrs to listen on. Default: any IPv4 address,
	// an OS-chosen port, TCP and QUIC.
	Listen []string
	// Bootstrap are full multiaddrs (ending in /p2p/<id>) of peers to
	// connect to at start. They are protected from connection trimming
	// and serve as static relays for peers behind NAT.
	Bootstrap []string
	// Announce, when set, replaces the addresses the host advertises
	// (for a node behind a port forward the host cannot discover).
	Announce []string
	// Datastore holds the replica, already namespaced by the caller.
	// Default: an in-memory map (nothing survives a restart).
	Datastore replica.Datastore
	// Logger receives the federation's logs. Its attributes name the node
	// (node=...); each part of the federation adds only its "component",
	// and "peer" on a line is always another node. Default: discard.
	Logger *slog.Logger
	// Clock stamps the node's entries and drives the catch-up and redial
	// loops. Default: the real clock.
	Clock clock.Clock
	// Metrics, when set, receives the federation's collectors at Start
	// (metrics.go): gossip verdicts, catch-up sessions, stream refusals,
	// peers. Default: none are exported.
	Metrics prometheus.Registerer
	// Host, when set, is used instead of building a libp2p host (tests
	// inject mocknet hosts). The Federation does not close it; its
	// identity must be Key.
	Host host.Host
	// CatchupInterval is how often the node catches up with every
	// connected peer, besides once on every new connection. Default 1 min.
	CatchupInterval time.Duration
	// PublishWait bounds how long Publish waits for a peer on the topic
	// before publishing anyway, when the node has connections (a message
	// published before the mesh forms can be lost). Default 2 s.
	PublishWait time.Duration

	// NoNAT turns off UPnP/NAT-PMP port mapping, hole punching and the
	// relay client: for nodes on a LAN or a public address, and for tests,
	// which must not send router discovery (SSDP multicast) off loopback.
	NoNAT bool

	// StockGossip runs gossipsub with the library's defaults (no flood
	// publish, default mesh degree, no peer scoring, sender+seqno message
	// ids): the baseline for benchmarks.
	StockGossip bool
	// Topology is what the node expects of its links when the gossip
	// router is built, which picks the router's mesh (topics.TunedFor).
	// Zero: from the replica, as many members as publishers it holds,
	// linked to all of them up to the connection manager's low water
	// mark (the redial loop dials every online member).
	Topology topics.Topology
	// GossipTuning, when set, replaces the tuned router variant
	// (topics.Tuned), for benchmarks comparing variants.
	GossipTuning *topics.Tuning
	// Tracer, when set, observes pubsub events (benchmarks count sends).
	Tracer pubsub.RawTracer
	// DisableGossip stops the node from subscribing to the topics, so it
	// receives entries only by catch-up (a test hook). It still publishes.
	DisableGossip bool
	// DisableCatchup turns off the catch-up triggered on connect and by
	// the interval (a test hook: SyncAll still works).
	DisableCatchup bool
}

func (c *Config) withDefaults() Config {
	d := *c
	if len(d.Listen) == 0 {
		d.Listen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.Clock = clock.Or(d.Clock)
	if d.CatchupInterval <= 0 {
		d.CatchupInterval = time.Minute
	}
	if d.PublishWait <= 0 {
		d.PublishWait = 2 * time.Second
	}
	return d
}
