package nodetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/difronte/difronte/node"
)

// Mocknet is an in-memory libp2p network for whole nodes: no sockets
// for libp2p, and links only where the test makes them.
type Mocknet struct {
	tb testing.TB
	mn mocknet.Mocknet
}

// NewMocknet returns an empty network, closed when the test ends (after
// the nodes on it).
func NewMocknet(tb testing.TB) *Mocknet {
	m := &Mocknet{tb: tb, mn: mocknet.New()}
	tb.Cleanup(func() { m.mn.Close() })
	return m
}

// Start starts a node per cfg (see the package's Start) on a host of
// this network, not linked to any other yet.
func (m *Mocknet) Start(cfgs ...node.Config) []*node.Node {
	m.tb.Helper()
	for i := range cfgs {
		m.addHost(&cfgs[i])
	}
	return Start(m.tb, cfgs...)
}

// addHost gives cfg a host on the network, with cfg's key or a new one.
func (m *Mocknet) addHost(cfg *node.Config) {
	m.tb.Helper()
	if cfg.Key == nil {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			m.tb.Fatal(err)
		}
		cfg.Key = key
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(cfg.Key)
	if err != nil {
		m.tb.Fatal(err)
	}
	addr, _ := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", len(m.mn.Peers())+1))
	h, err := m.mn.AddPeer(k, addr)
	if err != nil {
		m.tb.Fatal(err)
	}
	cfg.P2PHost = h
}

// Link links a and b and connects them.
func (m *Mocknet) Link(a, b *node.Node) {
	m.tb.Helper()
	pa, pb := m.peerID(a), m.peerID(b)
	if _, err := m.mn.LinkPeers(pa, pb); err != nil {
		m.tb.Fatal(err)
	}
	if _, err := m.mn.ConnectPeers(pa, pb); err != nil {
		m.tb.Fatal(err)
	}
}

func (m *Mocknet) peerID(n *node.Node) peer.ID {
	m.tb.Helper()
	id, err := peer.Decode(n.PeerID())
	if err != nil {
		m.tb.Fatal(err)
	}
	return id
}

// Pair starts two nodes on a new in-memory network, linked and
// connected.
func Pair(tb testing.TB, a, b node.Config) (*node.Node, *node.Node) {
	tb.Helper()
	m := NewMocknet(tb)
	ns := m.Start(a, b)
	m.Link(ns[0], ns[1])
	return ns[0], ns[1]
}
