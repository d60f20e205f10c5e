package federation

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func somePeers(t *testing.T, n int) []peer.ID {
	t.Helper()
	ids := make([]peer.ID, n)
	for i := range ids {
		ids[i] = peerOf(t, newKey(t))
	}
	return ids
}

func TestLinksCodec(t *testing.T) {
	ids := somePeers(t, 5)
	got, err := decodeLinks(encodeLinks(ids))
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	if got, err := decodeLinks(nil); err != nil || len(got) != 0 {
		t.Fatalf("no links: %v, %v", got, err)
	}
	// More than maxLinks are cut to maxLinks, which still decode.
	many := make([]peer.ID, maxLinks+3)
	for i := range many {
		many[i] = ids[i%len(ids)]
	}
	if got, err := decodeLinks(encodeLinks(many)); err != nil || len(got) != maxLinks {
		t.Fatalf("%d links encoded: %d decoded, %v", len(many), len(got), err)
	}
	one := encodeLinks(ids[:1])
	for name, b := range map[string][]byte{
		"empty id":         {0},
		"cut id":           one[:len(one)-1],
		"length past end":  {40, 1, 2, 3},
		"id over 64 bytes": append([]byte{65}, make([]byte, 65)...),
		"not a peer id":    {3, 'a', 'b', 'c'},
		"over maxLinks":    bytes.Repeat(one, maxLinks+1),
		"junk after":       append(slices.Clone(one), 7),
	} {
		if _, err := decodeLinks(b); !errors.Is(err, errLinks) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
}

// FuzzDecodeLinks: a links answer comes from another node. Whatever it
// sends, decoding does not panic, and what it accepts is exactly what
// encodeLinks writes for the ids it read.
func FuzzDecodeLinks(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{3, 'a', 'b', 'c'})
	id, err := peer.Decode("12D3KooWAHYeRPCKnWtszxZYvsahbLSDuBwRXRBxQPxep5Ukpjyp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeLinks([]peer.ID{id, id}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := decodeLinks(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeLinks(ids), b) {
			t.Fatalf("%x decoded to %v, which encodes otherwise", b, ids)
		}
	})
}

func TestLinkBook(t *testing.T) {
	ids := somePeers(t, 4)
	mesh, pub, other, stranger := ids[0], ids[1], ids[2], ids[3]
	b := newLinkBook()
	if b.unlinked(mesh, pub) {
		t.Fatal("a peer that has not said counts as unlinked")
	}
	b.set(mesh, []peer.ID{other})
	if !b.unlinked(mesh, pub) || b.unlinked(mesh, other) {
		t.Fatal("the book does not follow what the peer said")
	}
	b.set(stranger, nil)
	b.keep(map[peer.ID]struct{}{stranger: {}})
	if b.unlinked(mesh, pub) || !b.unlinked(stranger, pub) {
		t.Fatal("keep forgot the wrong peer")
	}
}

func loopbackHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestLinksExchange: a node answers with the peers it is connected to,
// and a peer over the exchange's limits is refused, not believed.
func TestLinksExchange(t *testing.T) {
	a, b, c := loopbackHost(t), loopbackHost(t), loopbackHost(t)
	ctx := context.Background()
	for _, x := range []host.Host{a, c} {
		if err := b.Connect(ctx, peer.AddrInfo{ID: x.ID(), Addrs: x.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	stop := serveLinks(b, func() []peer.ID { return b.Network().Peers() })
	got, err := fetchLinks(ctx, a, b.ID())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []peer.ID{a.ID(), c.ID()}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("links of b: %v, want %v", got, want)
	}
	stop()
	linksExchange.Serve(b, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return []byte{3, 'a', 'b', 'c'}, nil
	}, nil)
	if _, err := fetchLinks(ctx, a, b.ID()); !errors.Is(err, errLinks) {
		t.Fatalf("a bad answer: %v, want a refusal", err)
	}
}

// TestRelayForwardsAtOnceToUnlinked: an entry straight from its publisher
// is held unless a mesh peer said it is not linked to that publisher; an
// entry relayed by another node keeps its own hold either way.
func TestRelayForwardsAtOnceToUnlinked(t *testing.T) {
	var held atomic.Int64
	fx := newRelayFixture(t, 5*time.Millisecond, func(_ context.Context, d time.Duration) { held.Store(int64(d)) })
	fx.r.relayedHold = 3 * time.Millisecond
	var asked atomic.Int32
	unlinked := false
	fx.r.unlinked = func(topic string, from, pub peer.ID) bool {
		asked.Add(1)
		if topic == "" || from != pub {
			t.Errorf("asked about topic %q, from %s, publisher %s", topic, from, pub)
		}
		return unlinked
	}
	ctx := context.Background()
	relayer := peerOf(t, newKey(t))
	for i, c := range []struct {
		unlinked, relayed bool
		want              time.Duration
	}{
		{false, false, 5 * time.Millisecond},
		{true, false, 0},
		{true, true, 3 * time.Millisecond},
		{false, true, 3 * time.Millisecond},
	} {
		k := newKey(t)
		e := signedOffering(t, k, []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
			"33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"}[i])
		from := peerOf(t, k)
		if c.relayed {
			from = relayer
		}
		unlinked = c.unlinked
		held.Store(-1)
		if got := fx.r.validate(ctx, from, gossipMsg(e, peerOf(t, k), from)); got != pubsub.ValidationAccept {
			t.Fatalf("case %d: %v", i, got)
		}
		got := time.Duration(held.Load())
		if got == -1 {
			got = 0
		}
		if got != c.want {
			t.Errorf("unlinked %v, relayed %v: held %v, want %v", c.unlinked, c.relayed, got, c.want)
		}
	}
	if asked.Load() != 2 {
		t.Errorf("the book was asked %d times, want 2 (entries straight from their publisher)", asked.Load())
	}
}

// TestForwardUnlinkedAcrossNodes: three nodes on loopback, the publisher
// linked to the relay only and the relay to the last node. With a
// 2-second hold on the flood's forward, the last node gets the entry only
// once the relay's hold ends; with ForwardUnlinked the relay, told by the
// last node that it is not linked to the publisher, forwards at once.
func TestForwardUnlinkedAcrossNodes(t *testing.T) {
	const hold = 2 * time.Second
	for _, forward := range []bool{false, true} {
		t.Run(map[bool]string{false: "held", true: "forwarded"}[forward], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tuning := topics.Tuning{Params: topics.DenseParams(), FloodPublish: true, RelayDelay: hold, ForwardUnlinked: forward}
			start := func(bootstrap []string) *Federation {
				cfg := loopbackConfig(t)
				cfg.Listen = cfg.Listen[:1]
				cfg.GossipTuning, cfg.DisableCatchup, cfg.Bootstrap = &tuning, true, bootstrap
				f, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				return f
			}
			pub := start(nil)
			relay := start(pub.Addrs()[:1])
			last := start(relay.Addrs()[:1])
			if slices.Contains(last.Peers(), pub.PeerID()) {
				t.Fatal("the last node is linked to the publisher")
			}
			// Both links in the catalogue's mesh, and, when asked for, the
			// relay told by the last node of its links.
			if !poll.Wait(10*time.Second, 10*time.Millisecond, func() bool {
				if relay.MeshPeers()[topics.Catalogue] != 2 || last.MeshPeers()[topics.Catalogue] != 1 {
					return false
				}
				return !forward || relay.links.unlinked(last.host.ID(), pub.host.ID())
			}) {
				t.Fatalf("meshes %v and %v", relay.MeshPeers(), last.MeshPeers())
			}
			const id = "0b6f9c4e-8f0e-4d8a-9a51-2f2b6c1d3e4f"
			t0 := time.Now()
			if _, err := pub.Publish(ctx, schema.KindOffering, id, offering(t, id)); err != nil {
				t.Fatal(err)
			}
			if !poll.Wait(10*time.Second, time.Millisecond, func() bool {
				e, err := last.Replica().Get(ctx, pub.PeerID(), schema.KindOffering, id)
				return err == nil && e != nil
			}) {
				t.Fatal("the entry did not reach the last node")
			}
			took := time.Since(t0)
			t.Logf("the last node got the entry after %v", took)
			switch {
			case !forward && took < hold:
				t.Fatalf("held: the entry came after %v, before the relay's hold of %v ended", took, hold)
			case forward && took >= hold/2:
				t.Fatalf("forwarded: the entry came after %v, want well within the hold of %v", took, hold)
			}
		})
	}
}
