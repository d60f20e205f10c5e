package federation

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/clock"
)

// A connection whose identify exchange did not complete is never gossiped
// on: pubsub adds a peer only when identify completes (it learns from it
// that the peer speaks gossipsub), and identify runs once per connection
// with a 5 s timeout. Under CPU load it fails or never finishes now and
// then, and the two nodes stay connected without knowing each other's
// subscriptions: the readiness failures of issue 20 ("node 52 knows 11 of
// 12 peers"; the side that did not know its peer had learnt 2 of its 8
// protocols, and neither side's gossip stream had closed). So the node
// replaces such a connection, on an identify failure or when a connection
// is older than identifyGrace and its peer still unidentified: it closes
// it and dials the peer again, which runs identify afresh and opens new
// gossip streams on both sides. At most once per peer per
// reidentifyEvery, so a peer that never answers identify costs one redial
// a minute.
const (
	reidentifyDelay = time.Second
	reidentifyEvery = time.Minute
	identifyGrace   = 10 * time.Second
)

func (f *Federation) watchIdentify(sub event.Subscription) {
	defer f.wg.Done()
	defer sub.Close()
	last := map[peer.ID]time.Time{}
	identified := map[peer.ID]bool{}
	unknown := map[peer.ID]time.Time{} // connected, unidentified, since
	for _, p := range f.host.Network().Peers() {
		identified[p] = true // connected before we watched: not ours to judge
	}
	replace := func(p peer.ID) {
		now := f.cfg.Clock.Now()
		if t, seen := last[p]; seen && now.Sub(t) < reidentifyEvery {
			return
		}
		last[p] = now
		f.wg.Add(1)
		go f.reconnect(p)
	}
	tick := f.cfg.Clock.NewTicker(identifyGrace / 2)
	defer tick.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case ev, ok := <-sub.Out():
			if !ok {
				return
			}
			switch e := ev.(type) {
			case event.EvtPeerIdentificationCompleted:
				identified[e.Peer] = true
			case event.EvtPeerIdentificationFailed:
				replace(e.Peer)
			case event.EvtPeerConnectednessChanged:
				if e.Connectedness != network.Connected {
					delete(identified, e.Peer)
					delete(unknown, e.Peer)
				}
			}
		case <-tick.C():
			now := f.cfg.Clock.Now()
			for _, p := range f.host.Network().Peers() {
				if identified[p] {
					delete(unknown, p)
					continue
				}
				// Seen unidentified on a tick; replaced when still so
				// identifyGrace later (not every network stamps a
				// connection's opening time).
				if t, ok := unknown[p]; !ok {
					unknown[p] = now
				} else if now.Sub(t) >= identifyGrace {
					delete(unknown, p)
					replace(p)
				}
			}
		}
	}
}

// reconnect replaces the connection to p, if still connected after a
// moment (an identify that failed because the connection closed needs
// nothing).
func (f *Federation) reconnect(p peer.ID) {
	defer f.wg.Done()
	select {
	case <-f.ctx.Done():
		return
	case <-clock.After(f.cfg.Clock, reidentifyDelay):
	}
	if f.host.Network().Connectedness(p) != network.Connected {
		return
	}
	ai := peer.AddrInfo{ID: p, Addrs: f.host.Peerstore().Addrs(p)}
	f.log.Info("identify failed; reconnecting", "peer", p.String())
	_ = f.host.Network().ClosePeer(p)
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	if err := f.host.Connect(ctx, ai); err != nil {
		// The peer's own redial, or ours, will bring it back.
		f.log.Debug("reconnect after identify failure", "peer", p.String(), "err", err)
	}
}
