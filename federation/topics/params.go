package topics

import (
	"math"
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/schema"
)

// MaxMessageSize bounds a pubsub RPC read: one maximal entry plus the pubsub
// envelope (author, seqno, signature, topic) with room to spare. An entry
// just over schema.MaxEntrySize still reaches the validator and is
// rejected there, which is what scores the sender.
const MaxMessageSize = schema.MaxEntrySize + 16<<10

// Topology is what a node knows, when its router is built, about how it
// will be linked: the router's parameters cannot change afterwards
// (pubsub fixes them in NewGossipSub), so the mesh is chosen from it.
type Topology struct {
	// Members is how many nodes the federation has, the node included
	// (0: not known yet, as on a first start).
	Members int
	// Linked is how many of the others the node expects to be connected
	// to: the redial loop dials every online member, up to the connection
	// manager's low water mark.
	Linked int
}

// Dense reports whether the node expects a connection to at least half of
// the other members, so that a publisher's flood reaches most nodes in one
// hop (all of them when every member is linked, as the redial loop links
// a federation of up to the connection manager's low water mark).
func (t Topology) Dense() bool { return t.Members > 1 && 2*t.Linked >= t.Members-1 }

// Full reports whether the node expects a connection to every other
// member: a publisher's flood then reaches every node in one hop, and the
// mesh forward is only the backup for a link that dropped.
func (t Topology) Full() bool { return t.Members > 1 && t.Linked >= t.Members-1 }

// GossipParams are the router parameters for a node that is not linked to
// every member (or does not know yet): hundreds of coop nodes, a few
// catalogue changes a minute, entries of a few KB.
//
// Flood publishing sends a new entry from its publisher straight to every
// connected topic peer, so its neighbours get it in one hop; the mesh has
// to cover the nodes the publisher is not connected to. The mesh is much
// thinner than the default (D=6, Dlo=5, Dhi=12), which is what multiplies
// duplicate full-message sends: each receiver forwards to its D mesh
// peers, many of which already have the entry, and IDONTWANT rarely wins
// that race unless the forward is held (FloodHold). D=3, Dlo=2, Dhi=4:
// under CPU load the thinner D=2 mesh split often enough that the last
// node of a 60-node federation with 8 links each waited for gossip repair
// (IHAVE/IWANT at the next heartbeat, ~1 s), where D=3 kept the p99 to
// every node near stock's (docs/BENCHMARKS.md, issue 20); D=4 to 6 sent
// more under load, with or without a hold.
// Dout must be below D/2, so it is 0: the outbound-quota defence against
// eclipse by inbound connections is given up, which peer scoring and
// pinned bootstrap peers make acceptable for a federation of known coops.
//
// IDONTWANT (gossipsub v1.2) is sent for every message above
// IDontWantMessageThreshold; lowering it from 1 KiB to 256 bytes covers
// every real entry (a signed entry is ~150 bytes of header plus its body)
// while staying above Dhi × 32-byte ids, so a small message cannot make us
// send more control bytes than we received.
func GossipParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D = 3
	p.Dlo = 2
	p.Dhi = 4
	p.Dscore = 1
	p.Dout = 0
	// Gossip to more non-mesh peers than default, since the mesh is thin:
	// IHAVEs are cheap (ids only) and repair what the mesh misses.
	p.Dlazy = 8
	p.IDontWantMessageThreshold = 256
	return p
}

// DenseParams are the router parameters for a node linked to most or all
// of the other members (Topology.Dense). Every mesh forward is then nearly
// always a duplicate of the publisher's flood, which already reached the
// mesh peer: the cost is one send per record plus the mesh forwards of
// each receiver. So the mesh is the thinnest pubsub accepts, D=2, Dlo=1,
// Dhi=2 (Dout=0 must stay below D/2, which refuses D=1), kept as the path
// to the few nodes the publisher is not linked to and as the backup for a
// connection that dropped, beside gossip and catch-up.
func DenseParams() pubsub.GossipSubParams {
	p := GossipParams()
	p.D = 2
	p.Dlo = 1
	p.Dhi = 2
	return p
}

// FloodHold is the RelayDelay of the sparse variant: a node holds back
// the forward of an entry it got straight from its publisher (the flood)
// 2 ms, so that the IDONTWANT of mesh peers that got the same flood
// arrives first and the forward to them is skipped. The node applies the
// entry to its replica before the hold, so its own delivery does not
// wait; only the nodes that the flood missed wait for it, once. Under CPU load this took the sends from 2.2-3.0x to 1.8x the
// minimum with 8 links per node, with the per-node p99 below stock's
// (docs/BENCHMARKS.md, issue 20). The same hold at every hop, or a larger
// D with it, sent more under that load, where a hop takes 5-20 ms; in a
// sparse federation, holding relayed entries too (RelayedHold) is what
// saves sends without load.
const FloodHold = 2 * time.Millisecond

// DenseHold is the hold of the flood's forward when most but not all
// members are linked (Topology.Dense but not Full): the few nodes the
// publisher's flood misses get the entry from a mesh peer once the hold
// ends, so it is shorter than FloodHold; quiet and loaded, 1 ms kept the
// p99 with stock's where 2 ms fell behind, at 1.6x the minimum sends
// (docs/BENCHMARKS.md, issue 20).
const DenseHold = time.Millisecond

// FullHold is the hold of the flood's forward when every member is
// linked (Topology.Full): each node got the entry straight from its
// publisher, so the forward only stands in for a dropped link, and a
// longer hold lets the IDONTWANT of every mesh peer arrive first, however
// late the publisher's last copies leave.
const FullHold = 10 * time.Millisecond

// AdaptiveFrom is the federation size from which a densely linked node
// scales its hold by its duplicates (Tuning.AdaptiveHold). Below it the
// publisher's flood is a few sends, a late one of them is what the tail
// is made of, and the forward it holds is what covers it (BENCHMARKS,
// issue 20, session 12): the hold stays constant.
const AdaptiveFrom = 30

// RelayedHold is the hold, in a sparse federation, of the forward of an
// entry relayed by another node (not its publisher): the mesh peers that
// got it by other paths at about the same time tell us IDONTWANT during
// it, where without it both sides send each other the entry.
const RelayedHold = 3 * time.Millisecond

// TunedFor returns the federation's router variant for a node expecting
// topology t: DenseParams when it expects to be linked to at least half of
// the other members, GossipParams otherwise, including when it does not
// know. All flood publish and score peers; they differ in how long they
// hold a forward (FloodHold, DenseHold, FullHold, RelayedHold; docs/BENCHMARKS.md,
// issue 20). The dense one that is not fully linked skips the hold for a
// mesh peer the publisher is not linked to (ForwardUnlinked): there the
// flood reaches nearly every node and the one or two it misses are the
// tail. In a sparse federation most mesh peers are not linked to the
// publisher, and the hold is what saves the sends; in a fully linked one
// none is, but a mesh peer's answer from before its last links came up
// would cost sends for nothing (measured: 2.4x the minimum at N=60 against
// 1.2x).
func TunedFor(t Topology) Tuning {
	adaptive := t.Members >= AdaptiveFrom
	switch {
	case t.Full():
		return Tuning{Params: DenseParams(), FloodPublish: true, RelayDelay: FullHold, AdaptiveHold: adaptive}
	case t.Dense():
		return Tuning{Params: DenseParams(), FloodPublish: true, RelayDelay: DenseHold, AdaptiveHold: adaptive, ForwardUnlinked: true}
	}
	return Tuning{Params: GossipParams(), FloodPublish: true, RelayDelay: FloodHold, RelayedDelay: RelayedHold}
}

// ScoreParams are the peer-score parameters for the topics, chosen for a
// low-traffic federation where silence is normal and bad input is rare.
//
// whitelist is exempt from the IP-colocation penalty (P6); the federation
// passes loopback so in-process and same-machine test federations are not
// penalised, which a remote attacker cannot exploit (it cannot appear from
// 127.0.0.0/8).
func ScoreParams(whitelist []*net.IPNet) (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	params := &pubsub.PeerScoreParams{
		Topics: make(map[string]*pubsub.TopicScoreParams),
		// Positive score from one topic is capped so a peer cannot bank
		// credit on the catalogue and then misbehave elsewhere.
		TopicScoreCap:     50,
		AppSpecificScore:  func(peer.ID) float64 { return 0 },
		AppSpecificWeight: 1,
		// Coops rarely share a public IP; more than three peers from one
		// address looks like a sybil. Squared surplus × -5: the sixth peer
		// from one IP sits at -45 each, below zero but above the gossip
		// threshold, so they still get gossip but are pruned first.
		IPColocationFactorWeight:    -5,
		IPColocationFactorThreshold: 3,
		IPColocationFactorWhitelist: whitelist,
		// P7: protocol misbehaviour (GRAFT during backoff, broken IWANT
		// promises). A few honest slips are tolerated (threshold 6).
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		// Keep a disconnected peer's score for an hour so a peer that
		// was penalised cannot reset itself by reconnecting.
		RetainScore: time.Hour,
	}
	for _, t := range All() {
		params.Topics[t] = topicScore()
	}
	thresholds := &pubsub.PeerScoreThresholds{
		// One invalid message scores -100 (P4 is squared): two get a
		// peer past the gossip threshold, three past publish, five
		// graylist it (all its RPCs dropped). Honest nodes never send an
		// invalid entry, so there is no reason to be more patient.
		GossipThreshold:   -150,
		PublishThreshold:  -350,
		GraylistThreshold: -2000,
		// Only peers that have delivered first messages for a while are
		// trusted for peer exchange.
		AcceptPXThreshold: 10,
		// Opportunistic grafting kicks in when mesh peers are barely
		// positive, replacing them with peers that actually deliver.
		OpportunisticGraftThreshold: 2,
	}
	return params, thresholds
}

func topicScore() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight: 1,
		// P1: small reward for staying in the mesh, up to +3 after an hour.
		TimeInMeshWeight:  0.001,
		TimeInMeshQuantum: time.Second,
		TimeInMeshCap:     3600,
		// P2: the main positive signal: being first to bring us an entry.
		// Decays over an hour because traffic is sparse.
		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:    40,
		// P3/P3b off: they punish mesh peers that deliver fewer messages
		// than a threshold, and in a federation where nothing may be
		// published for an hour every honest peer would be penalised.
		MeshMessageDeliveriesWeight: 0,
		MeshFailurePenaltyWeight:    0,
		// P4: invalid messages, the signal that matters here. Slow decay
		// (half-life about a day) so a hostile peer stays down.
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  decayHalfLife(24 * time.Hour),
	}
}

// decayHalfLife is the per-second decay factor that halves a counter over d.
func decayHalfLife(d time.Duration) float64 {
	return math.Pow(0.5, 1/d.Seconds())
}

// Tuning is what one router variant sets beyond the options every tuned
// router shares: the mesh parameters, flood publishing, and how patient the
// behaviour penalty (P7) is. Tuned returns the federation's; benchmarks
// build others to compare.
type Tuning struct {
	Params       pubsub.GossipSubParams
	FloodPublish bool
	// NoScore turns peer scoring off (benchmarks only: scoring is what
	// demotes a hostile peer).
	NoScore bool
	// BehaviourPenaltyThreshold overrides ScoreParams' P7 threshold when
	// above zero.
	BehaviourPenaltyThreshold float64
	// RelayDelay holds back the forward of an accepted entry received
	// straight from its publisher (the publisher's flood) this long: the
	// node applies the entry to its replica at once, then pubsub forwards
	// it to the mesh after the hold, so that the IDONTWANT of mesh peers
	// that got the same flood arrives first and the forward to them is
	// skipped. Entries relayed by others wait RelayedDelay instead.
	RelayDelay time.Duration
	// RelayedDelay holds back the forward of an accepted entry relayed by
	// another node (not its publisher) this long; 0: no hold.
	RelayedDelay time.Duration
	// AdaptiveHold scales both holds by the node's own duplicates per
	// entry of late: doubled per entry while more than 0.6 copies beyond
	// the first arrive per entry, up to 16 times, and halved back under
	// 0.3 (federation/hold.go).
	AdaptiveHold bool
	// ForwardUnlinked forwards an entry received straight from its
	// publisher at once, without RelayDelay's hold, when a mesh peer has
	// said (federation's links protocol) that it is not linked to that
	// publisher: the hold waits for the IDONTWANT of peers the flood
	// reached, and that peer is one it did not.
	ForwardUnlinked bool
}

// Tuned returns the federation's router variant for a node that does not
// know its topology.
func Tuned() Tuning { return TunedFor(Topology{}) }

// Options returns the pubsub options for a tuned federation router on a
// node expecting topology t. whitelist is passed to ScoreParams.
func Options(whitelist []*net.IPNet, t Topology) []pubsub.Option {
	return OptionsFor(whitelist, TunedFor(t))
}

// OptionsFor returns the pubsub options for the router variant t.
func OptionsFor(whitelist []*net.IPNet, t Tuning) []pubsub.Option {
	params, thresholds := ScoreParams(whitelist)
	if t.BehaviourPenaltyThreshold > 0 {
		params.BehaviourPenaltyThreshold = t.BehaviourPenaltyThreshold
	}
	opts := []pubsub.Option{
		pubsub.WithGossipSubParams(t.Params),
		pubsub.WithFloodPublish(t.FloodPublish),
		pubsub.WithMessageIdFn(MessageID),
		// Peer exchange on prune helps a node that only knows its
		// bootstrap peers find the rest of the federation.
		pubsub.WithPeerExchange(true),
		pubsub.WithMaxMessageSize(MaxMessageSize),
		// Validation is an Ed25519 verify (~50 µs) plus a JSON decode.
		// A burst after a partition heals can bring thousands of
		// entries at once; a deep queue absorbs it instead of dropping
		// (dropped ones would be re-fetched by catch-up anyway). The
		// throttle bounds concurrent validations to what two cores do.
		pubsub.WithValidateQueueSize(4096),
		pubsub.WithValidateThrottle(256),
		// The per-peer send queue (default 32 RPCs) overflows in the
		// same bursts and pubsub then drops whole RPCs; 256 costs a few
		// hundred KB per peer at most.
		pubsub.WithPeerOutboundQueueSize(256),
	}
	if !t.NoScore {
		opts = append(opts, pubsub.WithPeerScore(params, thresholds))
	}
	return opts
}

// StockOptions returns the options for a baseline router with gossipsub's
// own defaults, for benchmarks: only the message size limit is shared.
func StockOptions() []pubsub.Option {
	return []pubsub.Option{pubsub.WithMaxMessageSize(MaxMessageSize)}
}
