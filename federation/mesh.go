package federation

import (
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// meshTracer follows GRAFT and PRUNE to know the size of the gossip mesh
// per topic, which pubsub does not expose. Its callbacks run on pubsub's
// event loop, so they only touch a small map under a mutex.
type meshTracer struct {
	mu     sync.Mutex
	mesh   map[string]map[peer.ID]struct{}
	grafts map[string]int  // every GRAFT since start, kept or later pruned
	closed map[peer.ID]int // outbound gossip streams closed, per peer
	// holds, when set, is told of every duplicate (adaptive relay hold).
	holds *holdGauge
	// kick, when set, is signalled (without blocking) on every GRAFT: the
	// links loop then asks its mesh peers, the new one included, for their
	// links (links.go).
	kick chan struct{}
}

func newMeshTracer() *meshTracer {
	return &meshTracer{mesh: map[string]map[peer.ID]struct{}{}, grafts: map[string]int{}, closed: map[peer.ID]int{}}
}

func (m *meshTracer) grafted(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.grafts[topic]
}

func (m *meshTracer) size(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mesh[topic])
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh[topic] == nil {
		m.mesh[topic] = map[peer.ID]struct{}{}
	}
	m.mesh[topic][p] = struct{}{}
	m.grafts[topic]++
	if m.kick != nil {
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
}

// allPeers is every peer in any topic's mesh.
func (m *meshTracer) allPeers() map[peer.ID]struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[peer.ID]struct{}{}
	for _, peers := range m.mesh {
		for p := range peers {
			out[p] = struct{}{}
		}
	}
	return out
}

// anyPeer reports whether f holds for a peer of topic's mesh.
func (m *meshTracer) anyPeer(topic string, f func(peer.ID) bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.mesh[topic] {
		if f(p) {
			return true
		}
	}
	return false
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

// OnClosedOutboundStream is how the router learns a peer is gone; it then
// drops the peer from every mesh without tracing a PRUNE.
func (m *meshTracer) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, peers := range m.mesh {
		delete(peers, p)
	}
	m.closed[p]++
}

func (m *meshTracer) streamsClosed(p peer.ID) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed[p]
}

func (m *meshTracer) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, topic)
}

func (m *meshTracer) DuplicateMessage(*pubsub.Message) {
	if m.holds != nil {
		m.holds.duplicate()
	}
}

func (*meshTracer) Join(string)                                          {}
func (*meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (*meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (*meshTracer) ThrottlePeer(peer.ID)                                 {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)                 {}
func (*meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
