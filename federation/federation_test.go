package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func offering(t *testing.T, id string) []byte {
	t.Helper()
	b, err := json.Marshal(schema.Offering{
		ID: id, Name: "Assistenza domiciliare", Description: "Visite a domicilio.",
		Category: "anziani.assistenza-domiciliare", Cost: schema.Cost{Type: schema.CostFree},
		Delivery: schema.DeliveryIndividual, Areas: []string{"080063"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@example.org"}, Status: schema.StatusActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loopbackConfig listens on loopback only, TCP and QUIC.
func loopbackConfig(t *testing.T) Config {
	return Config{
		Key:    newKey(t),
		Listen: []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
		NoNAT:  true,
	}
}

// loopbackLeaks are the goroutines production hosts leave behind.
func loopbackLeaks() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
		// quic-go and the libp2p NAT/metrics helpers keep package-level
		// workers that outlive any one host.
		goleak.IgnoreAnyFunction("github.com/quic-go/quic-go.(*packetHandlerMap).runCloseQueue"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/host/eventbus.(*basicBus).Emitter.func1"),
	}
}

// Two production hosts on loopback: start, connect, publish, withdraw,
// converge; close twice; no goroutine left behind.
func TestTwoNodesOnLoopback(t *testing.T) {
	defer goleak.VerifyNone(t, loopbackLeaks()...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a, err := New(loopbackConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(ctx, schema.KindOffering, "x", nil); err == nil {
		t.Fatal("publish before start succeeded")
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cb := loopbackConfig(t)
	cb.Bootstrap = a.Addrs()[:1]
	b, err := New(cb)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Peers()) != 1 || b.Peers()[0] != a.PeerID() {
		t.Fatalf("b peers %v, want [%s]", b.Peers(), a.PeerID())
	}
	if a.PeerID() != a.Host().ID().String() {
		t.Fatal("publisher id differs from libp2p identity")
	}

	const id = "0b6f9c4e-8f0e-4d8a-9a51-2f2b6c1d3e4f"
	if _, err := a.Publish(ctx, schema.KindOffering, id, offering(t, id)); err != nil {
		t.Fatal(err)
	}
	waitEqual(t, ctx, a, b)
	got, err := b.Replica().Get(ctx, a.PeerID(), schema.KindOffering, id)
	if err != nil || got.Tombstone {
		t.Fatalf("b holds %v, %v", got, err)
	}
	if _, err := a.Withdraw(ctx, schema.KindOffering, id); err != nil {
		t.Fatal(err)
	}
	waitEqual(t, ctx, a, b)
	if got, _ := b.Replica().Get(ctx, a.PeerID(), schema.KindOffering, id); got == nil || !got.Tombstone {
		t.Fatal("withdrawal did not reach b")
	}
	if _, err := b.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(ctx, schema.KindOffering, id, []byte(`{"id":"`+id+`"}`)); err == nil {
		t.Fatal("published an invalid body")
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, err := b.Publish(ctx, schema.KindOffering, id, offering(t, id)); err == nil {
		t.Fatal("publish after close succeeded")
	}
}

func waitEqual(t *testing.T, ctx context.Context, a, b *Federation) {
	t.Helper()
	if !poll.WaitCtx(ctx, 10*time.Millisecond, func() bool { return a.Replica().Digest() == b.Replica().Digest() }) {
		t.Fatal("replicas did not converge")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no key", Config{}},
		{"short key", Config{Key: make([]byte, 10)}},
		{"bootstrap without peer id", Config{Key: newKey(t), Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}}},
		{"bootstrap garbage", Config{Key: newKey(t), Bootstrap: []string{"nope"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}
