package members

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/hashicorp/memberlist"
)

// Profile selects the timing defaults for failure detection.
type Profile string

const (
	// ProfileLAN is the default: nodes on one LAN or a test network, with
	// round trips of a few milliseconds. Every node sees a crashed node as
	// offline within about 2 s at 10 to 50 nodes (measured, see
	// BenchmarkFailureDetection), against 8-11 s with memberlist's own
	// LAN defaults.
	ProfileLAN Profile = "lan"
	// ProfileWAN is for coops on home internet connections: round trips
	// of 20-100 ms with spikes of several hundred under upload load
	// (bufferbloat), lost UDP packets, and old PCs that stall. It trades
	// detection speed (about 6-10 s at 10 to 50 nodes) for no false
	// alarms on such links. A real federation over the internet should
	// use it.
	ProfileWAN Profile = "wan"
)

// Timing holds the failure-detection knobs. In Config a zero field takes
// the profile's value.
type Timing struct {
	// ProbeInterval is how often each node pings one other node. Every
	// node is probed by someone about once per interval, so it bounds the
	// time until a crash is first noticed, and the suspicion timeout
	// scales with it.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct ping waits for its ack before
	// asking IndirectChecks other nodes to try (they get the rest of the
	// probe interval). It must exceed the worst normal round trip.
	ProbeTimeout time.Duration
	// SuspicionMult: a suspected node is declared dead after
	// SuspicionMult × max(1, log10 N) × ProbeInterval if SuspicionMult−2
	// other nodes confirm the suspicion; this is the time a live node has
	// to hear it is suspected and refute it.
	SuspicionMult int
	// SuspicionMaxTimeoutMult scales the timeout used while nobody else
	// has confirmed the suspicion (Lifeguard): a lone accuser waits up to
	// this many times longer.
	SuspicionMaxTimeoutMult int
	// GossipInterval is how often a node sends queued news (suspect,
	// dead, alive, metadata) to GossipNodes random nodes; news reaches
	// everyone in about log(N) intervals.
	GossipInterval time.Duration
	GossipNodes    int
	// PushPullInterval is the period of the full state exchange that
	// repairs whatever gossip lost (partitions, long pauses).
	PushPullInterval time.Duration
	// TCPTimeout bounds a stream exchange (join, push-pull).
	TCPTimeout time.Duration
	// LeaveTimeout bounds how long Close waits for its leave message, and
	// UpdateMeta for its update, to be sent.
	LeaveTimeout time.Duration
}

// profileTiming returns the tuned values. The reasoning per knob:
//
// LAN. ProbeInterval 200 ms (memberlist: 1 s) is the main lever: detection
// is a few probe intervals long, and 5 pings a second per node is still
// negligible traffic (about 250 small packets a second for 50 nodes).
// ProbeTimeout 100 ms (500 ms) is still 20× a slow LAN round trip; a late
// ack only triggers indirect probes, not a suspicion. SuspicionMult stays
// 4, so a live node gets 0.8 s (N ≤ 10) to 1.4 s (N = 50) to refute, which
// is many gossip rounds. SuspicionMaxTimeoutMult 2 (6) keeps the
// unconfirmed case inside the 3 s goal; on a LAN confirmations arrive
// within a few hundred milliseconds anyway. GossipInterval 100 ms (200 ms)
// halves the time for the dead message to reach every node.
// PushPullInterval 15 s (30 s; memberlist doubles it above 32 nodes):
// gossip occasionally misses a join when many nodes join at once, and the
// full state exchange is what repairs it; at our sizes the state is a few
// kilobytes.
//
// WAN. ProbeInterval 1 s and ProbeTimeout 500 ms cover home uplinks whose
// round trip jumps to several hundred milliseconds when someone uploads;
// SuspicionMult 5 and SuspicionMaxTimeoutMult 4 give a live but briefly
// unreachable node 5-8.5 s (up to four times more when nobody confirms) to
// refute; gossip 200 ms to 4 nodes spreads news past lossy links. These
// are still well below memberlist's DefaultWANConfig (5 s probes, 3 s
// timeout, detection near a minute), which targets data centres in
// different regions, not a dozen coops that want "online" to mean online.
func profileTiming(p Profile) (Timing, error) {
	switch p {
	case ProfileLAN, "":
		return Timing{
			ProbeInterval:           200 * time.Millisecond,
			ProbeTimeout:            100 * time.Millisecond,
			SuspicionMult:           4,
			SuspicionMaxTimeoutMult: 2,
			GossipInterval:          100 * time.Millisecond,
			GossipNodes:             3,
			PushPullInterval:        15 * time.Second,
			TCPTimeout:              5 * time.Second,
			LeaveTimeout:            time.Second,
		}, nil
	case ProfileWAN:
		return Timing{
			ProbeInterval:           time.Second,
			ProbeTimeout:            500 * time.Millisecond,
			SuspicionMult:           5,
			SuspicionMaxTimeoutMult: 4,
			GossipInterval:          200 * time.Millisecond,
			GossipNodes:             4,
			PushPullInterval:        60 * time.Second,
			TCPTimeout:              10 * time.Second,
			LeaveTimeout:            5 * time.Second,
		}, nil
	default:
		return Timing{}, fmt.Errorf("unknown membership profile %q (want %q or %q)", p, ProfileLAN, ProfileWAN)
	}
}

// Config configures a Members. Zero values mean production defaults,
// except Name and SecretKeys, which are required.
type Config struct {
	// Name must be unique in the federation: the node's libp2p peer id.
	Name string
	Meta Meta
	// BindAddr defaults to "0.0.0.0"; BindPort 0 lets the OS choose a port
	// (read it back with LocalAddr).
	BindAddr string
	BindPort int
	// AdvertiseAddr is the IP other nodes use to reach this one. Empty
	// means the bound IP, or a private IP of this machine when bound to
	// 0.0.0.0 (memberlist fails if there is none: set it then).
	// AdvertisePort defaults to the bound port; memberlist ignores it
	// when BindPort is 0 and advertises the OS-chosen port.
	AdvertiseAddr string
	AdvertisePort int
	// SecretKeys is the federation secret: AES-256 keys of 32 bytes. The
	// first encrypts; all decrypt, so a new key can be rolled out before
	// the old one is removed. Required: membership without it would let
	// anyone on the network list themselves as a coop.
	SecretKeys [][]byte
	// Transport replaces UDP/TCP sockets (tests use an in-memory one).
	Transport memberlist.Transport
	// Logger receives this package's logs and memberlist's own, at debug
	// level, with component=members added; its attributes name the node.
	// Nil discards them.
	Logger *slog.Logger
	// Clock stamps LastSeen. Nil means the real clock.
	Clock clock.Clock
	// Profile picks the timing defaults; Timing overrides single knobs.
	Profile Profile
	Timing
	// MaxOffline bounds how many departed or failed nodes Members keeps
	// listing; the oldest are forgotten first. Zero means 256.
	MaxOffline int
}

// ErrNoSecret reports a Config without a federation secret.
var ErrNoSecret = errors.New("membership needs a federation secret")

// keyLen is AES-256: memberlist also accepts 16 and 24 byte keys, but one
// key size means one less thing for coops to get wrong.
const keyLen = 32

// resolved is Config with defaults applied and checked.
type resolved struct {
	Config
	timing Timing
}

func (c Config) resolve() (resolved, error) {
	if c.Name == "" {
		return resolved{}, errors.New("membership needs a node name")
	}
	if len(c.SecretKeys) == 0 {
		return resolved{}, ErrNoSecret
	}
	for i, k := range c.SecretKeys {
		if len(k) != keyLen {
			return resolved{}, fmt.Errorf("federation secret key %d has %d bytes, want %d", i, len(k), keyLen)
		}
	}
	t, err := profileTiming(c.Profile)
	if err != nil {
		return resolved{}, err
	}
	override(&t.ProbeInterval, c.ProbeInterval)
	override(&t.ProbeTimeout, c.ProbeTimeout)
	override(&t.SuspicionMult, c.SuspicionMult)
	override(&t.SuspicionMaxTimeoutMult, c.SuspicionMaxTimeoutMult)
	override(&t.GossipInterval, c.GossipInterval)
	override(&t.GossipNodes, c.GossipNodes)
	override(&t.PushPullInterval, c.PushPullInterval)
	override(&t.TCPTimeout, c.TCPTimeout)
	override(&t.LeaveTimeout, c.LeaveTimeout)
	if t.ProbeTimeout >= t.ProbeInterval {
		return resolved{}, fmt.Errorf("probe timeout %s must be shorter than probe interval %s", t.ProbeTimeout, t.ProbeInterval)
	}
	if c.BindAddr == "" {
		c.BindAddr = "0.0.0.0"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Clock = clock.Or(c.Clock)
	if c.MaxOffline <= 0 {
		c.MaxOffline = 256
	}
	if _, _, err := EncodeMeta(c.Meta); err != nil {
		return resolved{}, err
	}
	c.Meta = c.Meta.clone()
	c.SecretKeys = append([][]byte(nil), c.SecretKeys...)
	return resolved{Config: c, timing: t}, nil
}

func override[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

// Label keeps Difronte's gossip apart from any other memberlist cluster
// that shares a port; it is also bound into the encryption as associated
// data, so it cannot be stripped or swapped.
const Label = "difronte-members-1"

// memberlistConfig builds memberlist's config. Knobs not set here keep
// memberlist's LAN defaults (3 indirect checks, retransmit ×4, awareness
// ×8), which are sound at our sizes.
func (r resolved) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = r.Name
	mc.Label = Label
	mc.BindAddr = r.BindAddr
	mc.BindPort = r.BindPort
	mc.AdvertiseAddr = r.AdvertiseAddr
	mc.AdvertisePort = r.AdvertisePort
	if mc.AdvertisePort == 0 {
		// With BindPort 0 memberlist fills in the chosen port itself;
		// with a fixed port, advertise that one.
		mc.AdvertisePort = r.BindPort
	}
	mc.Transport = r.Transport
	mc.ProbeInterval = r.timing.ProbeInterval
	mc.ProbeTimeout = r.timing.ProbeTimeout
	mc.SuspicionMult = r.timing.SuspicionMult
	mc.SuspicionMaxTimeoutMult = r.timing.SuspicionMaxTimeoutMult
	mc.GossipInterval = r.timing.GossipInterval
	mc.GossipNodes = r.timing.GossipNodes
	mc.PushPullInterval = r.timing.PushPullInterval
	mc.TCPTimeout = r.timing.TCPTimeout
	// A crashed coop restarts under the same name (its peer id), likely
	// on a new OS-chosen port: let it reclaim its name as soon as the
	// others have declared the old incarnation dead.
	mc.DeadNodeReclaimTime = r.timing.ProbeInterval

	keyring, err := memberlist.NewKeyring(r.SecretKeys, r.SecretKeys[0])
	if err != nil {
		return nil, fmt.Errorf("federation secret: %w", err)
	}
	mc.Keyring = keyring
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	return mc, nil
}
