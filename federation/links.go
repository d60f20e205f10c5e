package federation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/stream"
)

// LinksProtocol is how a node learns which peers a gossip mesh peer is
// linked to (topics.Tuning.ForwardUnlinked). A node that got an entry
// straight from its publisher holds its forward to the mesh, so that mesh
// peers that got the same flood say IDONTWANT first; a mesh peer that is
// not linked to the publisher gets nothing from the flood and waits out
// the hold. Knowing it, the node forwards at once instead.
const LinksProtocol = "/difronte/links/1"

// maxLinks bounds a links answer: more peers than a node keeps connected
// (the connection manager's high water mark), each a 1-byte length and
// at most 64 bytes of peer id.
const (
	maxLinks      = 256
	maxLinkIDSize = 64
)

// linksRefresh is how often a node asks its mesh peers again, besides
// when one joins its mesh. Links change when a peer connects or drops;
// until the next answer the book is stale in one of two harmless ways: a
// peer said unlinked that is now linked gets a forward it did not need,
// and one said linked that is now not waits out the hold, as it did
// before this protocol.
const linksRefresh = 2 * time.Second

// linksExchange has no request: the server answers with its links as
// soon as the stream opens.
var linksExchange = stream.Exchange{Protocol: LinksProtocol, Name: "links",
	MaxResponse: maxLinks * (1 + maxLinkIDSize), Timeout: 2 * time.Second}

// errLinks is what a links answer that cannot be read wraps.
var errLinks = errors.New("bad links answer")

// encodeLinks writes up to maxLinks peer ids, each as a length byte and
// its bytes.
func encodeLinks(ids []peer.ID) []byte {
	var out []byte
	n := 0
	for _, id := range ids {
		if n == maxLinks || len(id) == 0 || len(id) > maxLinkIDSize {
			continue
		}
		out = append(out, byte(len(id)))
		out = append(out, id...)
		n++
	}
	return out
}

// decodeLinks reads an answer of encodeLinks. It refuses an empty or
// oversized id, a cut answer, more than maxLinks ids and an id that is no
// valid peer id.
func decodeLinks(b []byte) ([]peer.ID, error) {
	var ids []peer.ID
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || n > maxLinkIDSize || n > len(b)-1 {
			return nil, fmt.Errorf("%w: id length %d with %d bytes left", errLinks, n, len(b)-1)
		}
		if len(ids) == maxLinks {
			return nil, fmt.Errorf("%w: more than %d ids", errLinks, maxLinks)
		}
		id, err := peer.IDFromBytes(b[1 : 1+n])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errLinks, err)
		}
		ids = append(ids, id)
		b = b[1+n:]
	}
	return ids, nil
}

// serveLinks answers LinksProtocol with the peers h is connected to.
// Which coop nodes a node is linked to is no secret of anyone's: they are
// the federation's own, public, peers.
func serveLinks(h host.Host, links func() []peer.ID) (stop func()) {
	return linksExchange.Serve(h, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return encodeLinks(links()), nil
	}, nil)
}

// fetchLinks asks p which peers it is linked to.
func fetchLinks(ctx context.Context, h host.Host, p peer.ID) ([]peer.ID, error) {
	b, err := linksExchange.Call(ctx, h, p, nil)
	if err != nil {
		return nil, err
	}
	return decodeLinks(b)
}

// linkBook keeps what each mesh peer last said of its links.
type linkBook struct {
	mu    sync.Mutex
	links map[peer.ID]map[peer.ID]struct{}
}

func newLinkBook() *linkBook { return &linkBook{links: map[peer.ID]map[peer.ID]struct{}{}} }

func (b *linkBook) set(p peer.ID, ids []peer.ID) {
	set := make(map[peer.ID]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.links[p] = set
}

// keep forgets every peer but those in keep.
func (b *linkBook) keep(keep map[peer.ID]struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for p := range b.links {
		if _, ok := keep[p]; !ok {
			delete(b.links, p)
		}
	}
}

// unlinked reports whether p said it is not linked to pub. A peer that
// has not said (yet) counts as linked: the node then holds its forward
// as it would without the book.
func (b *linkBook) unlinked(p, pub peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	set, ok := b.links[p]
	if !ok {
		return false
	}
	_, linked := set[pub]
	return !linked
}

// linksLoop asks every gossip mesh peer for its links when it joins the
// mesh (the tracer kicks) and every linksRefresh, until the federation
// stops. One peer at a time: a mesh is a few peers.
func (f *Federation) linksLoop(kick <-chan struct{}) {
	defer f.wg.Done()
	t := time.NewTicker(linksRefresh)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
		peers := f.mesh.allPeers()
		for p := range peers {
			ids, err := fetchLinks(f.ctx, f.host, p)
			if err != nil {
				f.log.Debug("links of a mesh peer", "peer", p.String(), "err", err)
				continue
			}
			f.links.set(p, ids)
		}
		f.links.keep(peers)
	}
}

// meshUnlinked reports whether a mesh peer of topic, other than from, said
// it is not linked to pub.
func (f *Federation) meshUnlinked(topic string, from, pub peer.ID) bool {
	return f.mesh.anyPeer(topic, func(p peer.ID) bool { return p != from && f.links.unlinked(p, pub) })
}
