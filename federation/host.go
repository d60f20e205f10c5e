package federation

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Resource budget for libp2p on the smallest supported machine (2 GB RAM,
// shared with the store, the search index and the HTTP server). libp2p gets
// a quarter of it; rcmgr scales its default per-protocol, per-peer and
// per-connection limits from this total, so gossipsub, catch-up and call
// signaling keep their proportions. 512 file descriptors leave the rest of
// a 1024 soft limit to the store.
const (
	hostMemory = 512 << 20
	hostFDs    = 512
)

// Connection manager water marks. A federation of a few hundred coops does
// not need a full mesh: 64 connections give gossipsub plenty of candidates
// (D=4, Dhi=6) and catch-up partners; above 128 the manager trims the
// least useful, never protected (bootstrap) peers, after a grace period
// that lets a new connection prove itself.
const (
	connLow   = 64
	connHigh  = 128
	connGrace = time.Minute
)

// identity converts the node key to a libp2p key; the node's peer ID is
// then the publisher ID of its entries.
func identity(key ed25519.PrivateKey) (crypto.PrivKey, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("node key: want %d bytes, have %d", ed25519.PrivateKeySize, len(key))
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return k, nil
}

// newHost builds the production libp2p host.
func newHost(cfg Config, bootstrap []peer.AddrInfo) (host.Host, error) {
	id, err := identity(cfg.Key)
	if err != nil {
		return nil, err
	}
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	addStreamLimits(&limits)
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.Scale(hostMemory, hostFDs)))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(connLow, connHigh, connmgr.WithGracePeriod(connGrace))
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(id),
		libp2p.ListenAddrStrings(cfg.Listen...),
		// TCP for networks that block UDP, QUIC for faster handshakes and
		// better hole punching. Noise first, TLS for peers that prefer it.
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		// AutoNAT service: answer peers' reachability probes, so that
		// nodes behind NAT learn they need a relay.
		libp2p.EnableNATService(),
	}
	if cfg.NoNAT {
		opts = append(opts, libp2p.DisableRelay())
	} else {
		// Coop nodes sit behind home and office routers: ask the router
		// for a port mapping (UPnP/NAT-PMP) and punch holes (DCUtR)
		// through a relay when both sides are behind NAT.
		opts = append(opts, libp2p.NATPortMap(), libp2p.EnableHolePunching(), libp2p.EnableRelay())
	}
	if len(bootstrap) > 0 && !cfg.NoNAT {
		// Bootstrap peers are the well-known, publicly reachable nodes of
		// the federation: the natural relays for a node that AutoNAT
		// finds unreachable.
		opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(bootstrap, autorelay.WithNumRelays(min(2, len(bootstrap)))))
	}
	if len(cfg.Announce) > 0 {
		announce := make([]ma.Multiaddr, 0, len(cfg.Announce))
		for _, s := range cfg.Announce {
			a, err := ma.NewMultiaddr(s)
			if err != nil {
				cm.Close()
				rm.Close()
				return nil, fmt.Errorf("announce address %q: %w", s, err)
			}
			announce = append(announce, a)
		}
		opts = append(opts, libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return announce }))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		// libp2p.New closes the managers it was given when it fails.
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return h, nil
}

// parseBootstrap parses full multiaddrs with /p2p/ into peer infos.
func parseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	infos := make([]peer.AddrInfo, 0, len(addrs))
	for _, s := range addrs {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		infos = append(infos, *ai)
	}
	return infos, nil
}
