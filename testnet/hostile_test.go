package testnet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// watch records, per payload hash, what a node's router did with messages.
type watch struct {
	mu       sync.Mutex
	received map[[32]byte]bool   // arrived in an RPC from any peer
	verdict  map[[32]byte]string // rejected or ignored, with reason
}

func newWatch() *watch {
	return &watch{received: map[[32]byte]bool{}, verdict: map[[32]byte]string{}}
}

func (w *watch) RecvRPC(rpc *pubsub.RPC) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range rpc.GetPublish() {
		w.received[sha256.Sum256(m.GetData())] = true
	}
}

func (w *watch) RejectMessage(msg *pubsub.Message, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.verdict[sha256.Sum256(msg.GetData())] = reason
}

func (w *watch) got(id [32]byte) (received bool, verdict string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.received[id], w.verdict[id]
}

func (*watch) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*watch) OnClosedOutboundStream(peer.ID)                       {}
func (*watch) Join(string)                                          {}
func (*watch) Leave(string)                                         {}
func (*watch) Graft(peer.ID, string)                                {}
func (*watch) Prune(peer.ID, string)                                {}
func (*watch) ValidateMessage(*pubsub.Message)                      {}
func (*watch) DeliverMessage(*pubsub.Message)                       {}
func (*watch) DuplicateMessage(*pubsub.Message)                     {}
func (*watch) ThrottlePeer(peer.ID)                                 {}
func (*watch) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*watch) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*watch) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*watch) UndeliverableMessage(*pubsub.Message)                 {}

// signRaw signs e's canonical bytes as Sign would, without Sign's checks,
// to build entries that are well signed but otherwise invalid.
func signRaw(e *schema.Entry, priv ed25519.PrivateKey) []byte {
	e.Publisher = schema.PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	e.Sig = make([]byte, ed25519.SignatureSize)
	wire := e.Marshal()
	signed := wire[:len(wire)-ed25519.SignatureSize]
	sig := ed25519.Sign(priv, append([]byte("difronte/entry/v1"), signed...))
	return append(append([]byte{}, signed...), sig...)
}

func signed(t *testing.T, e *schema.Entry, priv ed25519.PrivateKey) []byte {
	t.Helper()
	if err := e.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

// hostile is a raw pubsub peer linked only to node 0: no validators, flood
// publish, whatever bytes it is told to send.
type hostile struct {
	key    ed25519.PrivateKey
	ps     *pubsub.PubSub
	topics map[string]*pubsub.Topic
}

func newHostile(t *testing.T, ctx context.Context, net *InProc, index int) *hostile {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ma.NewMultiaddr("/ip4/10.250.0." + string(rune('0'+index%10)) + "/tcp/4001")
	h, err := net.Mocknet().AddPeer(k, a)
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(pctx, h, pubsub.WithFloodPublish(true), pubsub.WithMaxMessageSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	hs := &hostile{key: key, ps: ps, topics: map[string]*pubsub.Topic{}}
	for _, name := range topics.All() {
		tp, err := ps.Join(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.Subscribe(); err != nil {
			t.Fatal(err)
		}
		hs.topics[name] = tp
	}
	target := net.Nodes[0]
	if _, err := net.Mocknet().LinkPeers(h.ID(), target.Host.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Mocknet().ConnectPeers(h.ID(), target.Host.ID()); err != nil {
		t.Fatal(err)
	}
	// Wait until the hostile peer knows node 0 is on the topics.
	poll.WaitCtx(ctx, 5*time.Millisecond, func() bool { return len(hs.topics[topics.Catalogue].ListPeers()) > 0 })
	return hs
}

func TestHostilePublisher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	watches := []*watch{newWatch(), newWatch(), newWatch()}
	net := NewInProc(t, 3, Options{Seed: 5, Tracer: func(i int) pubsub.RawTracer { return watches[i] }})
	a := net.Nodes[0]

	_, other, _ := ed25519.GenerateKey(rand.Reader)
	body := func(key string) []byte { return OfferingBody(net.rng, key) }
	key := newUUID(net.rng)
	now := time.Now()

	type bad struct {
		name   string
		topic  string
		data   func(h *hostile) []byte
		before func(h *hostile) []byte // a valid message sent first (replay)
		want   string                  // pubsub verdict
	}
	cases := []bad{
		{name: "bad signature", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			b := signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, h.key)
			b[len(b)-1] ^= 1
			return b
		}},
		{name: "signer is not the publisher", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			return signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, other)
		}},
		{name: "replayed old sequence", topic: topics.Catalogue, want: pubsub.RejectValidationIgnored,
			before: func(h *hostile) []byte {
				return signed(t, &schema.Entry{Seq: 2, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, h.key)
			},
			data: func(h *hostile) []byte {
				return signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, h.key)
			}},
		{name: "oversized", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			big := `{"id":"` + key + `","name":"` + strings.Repeat("x", schema.MaxEntrySize) + `"}`
			return signRaw(&schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: []byte(big)}, h.key)
		}},
		{name: "unknown kind", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			return signRaw(&schema.Entry{Seq: 1, Kind: "bogus", Key: key, IssuedAt: now, Body: body(key)}, h.key)
		}},
		{name: "kind on the wrong topic", topic: topics.Directory, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			return signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, h.key)
		}},
		{name: "invalid body", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			return signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: []byte(`{"id":"` + key + `"}`)}, h.key)
		}},
		{name: "truncated", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(h *hostile) []byte {
			b := signed(t, &schema.Entry{Seq: 1, Kind: schema.KindOffering, Key: key, IssuedAt: now, Body: body(key)}, h.key)
			return b[:len(b)/2]
		}},
		{name: "random bytes", topic: topics.Catalogue, want: pubsub.RejectValidationFailed, data: func(*hostile) []byte {
			b := make([]byte, 300)
			_, _ = rand.Read(b)
			return b
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A fresh hostile peer per case: node 0 graylists a peer after
			// a few invalid messages and would then drop the rest unseen.
			h := newHostile(t, ctx, net, i)
			if c.before != nil {
				first := c.before(h)
				if err := h.topics[c.topic].Publish(ctx, first); err != nil {
					t.Fatal(err)
				}
				pub := schema.PeerIDFromPublicKey(h.key.Public().(ed25519.PublicKey))
				for _, nd := range net.Nodes {
					poll.WaitCtx(ctx, 5*time.Millisecond, func() bool {
						_, err := nd.Fed.Replica().Get(ctx, pub, schema.KindOffering, key)
						return err == nil
					})
				}
				if err := net.WaitConverged(ctx); err != nil {
					t.Fatalf("valid entry did not spread: %v", err)
				}
			}
			before := a.Fed.Replica().Digest()
			data := c.data(h)
			id := sha256.Sum256(data)
			if err := h.topics[c.topic].Publish(ctx, data); err != nil {
				t.Fatal(err)
			}
			var verdict string
			poll.WaitCtx(ctx, 5*time.Millisecond, func() bool {
				_, verdict = watches[0].got(id)
				return verdict != ""
			})
			if verdict != c.want {
				t.Fatalf("node 0 verdict %q, want %q", verdict, c.want)
			}
			if a.Fed.Replica().Digest() != before {
				t.Fatal("node 0 stored the message")
			}
			for j := 1; j < 3; j++ {
				if got, _ := watches[j].got(id); got {
					t.Fatalf("node %d received the message: it was forwarded", j)
				}
			}
		})
	}

	// The federation keeps working: honest publishes still spread.
	for _, i := range []int{0, 1, 2} {
		if _, _, err := net.PublishRandom(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := net.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}
