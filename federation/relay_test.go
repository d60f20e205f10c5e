package federation

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func peerOf(t *testing.T, k ed25519.PrivateKey) peer.ID {
	t.Helper()
	id, err := peer.Decode(schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// signedOffering returns an offering entry signed by k, as its publisher's
// replica appends it.
func signedOffering(t *testing.T, k ed25519.PrivateKey, id string) *schema.Entry {
	t.Helper()
	ctx := context.Background()
	own, err := replica.Open(ctx, replica.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	e, err := own.Append(ctx, k, schema.KindOffering, id, offering(t, id), false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// gossipMsg is e as pubsub hands it to a validator: authored by its
// publisher, received from from.
func gossipMsg(e *schema.Entry, author, from peer.ID) *pubsub.Message {
	topic := topics.Catalogue
	return &pubsub.Message{
		Message:      &pb.Message{Data: e.Marshal(), From: []byte(author), Topic: &topic},
		ReceivedFrom: from,
	}
}

// relayFixture is a receiving node's replica with its early applier
// running, and the validator of the catalogue topic wrapped by relay.
type relayFixture struct {
	rep     *replica.Replica
	self    peer.ID
	changes atomic.Int32 // replica change notifications
	r       relay
}

func newRelayFixture(t *testing.T, hold time.Duration, sleep func(context.Context, time.Duration)) *relayFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := replica.Open(ctx, replica.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	fx := &relayFixture{rep: rep, self: peerOf(t, newKey(t))}
	rep.OnChange(func(_, _ *schema.Entry) { fx.changes.Add(1) })
	early := newEarlyApplier(rep, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() {
		defer close(done)
		early.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	fx.r = relay{
		v:     topics.Validator(topics.Catalogue, fx.self, rep, nil, nil),
		self:  fx.self,
		apply: early.offer,
		hold:  hold,
		sleep: sleep,
	}
	return fx
}

// TestRelayAppliesBeforeHold: the node holds an accepted entry in its
// replica while the validator is still holding the forward; the receive
// loop's second application of the delivered entry changes nothing.
func TestRelayAppliesBeforeHold(t *testing.T) {
	held := make(chan time.Duration, 1)
	release := make(chan struct{})
	// A hold that lasts until the test releases it: nothing can reach the
	// replica through the end of validation while it is blocked.
	fx := newRelayFixture(t, time.Hour, func(_ context.Context, d time.Duration) {
		held <- d
		<-release
	})
	pub := newKey(t)
	author := peerOf(t, pub)
	e := signedOffering(t, pub, "0b6f9c4e-8f0e-4d8a-9a51-2f2b6c1d3e4f")
	msg := gossipMsg(e, author, author)
	res := make(chan pubsub.ValidationResult, 1)
	go func() { res <- fx.r.validate(context.Background(), author, msg) }()

	if d := <-held; d != time.Hour {
		t.Fatalf("held %v, want the relay delay", d)
	}
	ctx := context.Background()
	inReplica := func() bool {
		got, err := fx.rep.Get(ctx, e.Publisher, e.Kind, e.Key)
		return err == nil && got.Seq == e.Seq
	}
	if !poll.Wait(5*time.Second, time.Millisecond, inReplica) {
		t.Fatal("the entry waited for the hold to reach the replica")
	}
	select {
	case r := <-res:
		t.Fatalf("validator returned %v before the hold ended", r)
	default:
	}
	close(release)
	if r := <-res; r != pubsub.ValidationAccept {
		t.Fatalf("verdict %v, want accept", r)
	}
	// What the subscription loop does with the delivered message.
	n, err := fx.rep.ApplyBatch(ctx, []*schema.Entry{msg.ValidatorData.(*schema.Entry)})
	if err != nil || n != 0 {
		t.Fatalf("second application changed %d entries (%v), want none", n, err)
	}
	if c := fx.changes.Load(); c != 1 {
		t.Fatalf("%d change notifications, want 1", c)
	}
	// Gossip bringing it again: ignored as a duplicate, neither applied
	// nor held.
	again := gossipMsg(e, author, peerOf(t, newKey(t)))
	if r := fx.r.validate(ctx, again.ReceivedFrom, again); r != pubsub.ValidationIgnore {
		t.Fatalf("duplicate: verdict %v, want ignore", r)
	}
	if c := fx.changes.Load(); c != 1 {
		t.Fatalf("%d change notifications after the duplicate, want 1", c)
	}
}

// TestRelayHoldMeasured: with the real timer, the entry is in the replica
// well before the validator returns, and the validator returns no sooner
// than the hold.
func TestRelayHoldMeasured(t *testing.T) {
	const hold = 400 * time.Millisecond
	fx := newRelayFixture(t, hold, nil)
	pub := newKey(t)
	author := peerOf(t, pub)
	e := signedOffering(t, pub, "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	msg := gossipMsg(e, author, author)
	t0 := time.Now()
	done := make(chan time.Duration, 1)
	go func() {
		fx.r.validate(context.Background(), author, msg)
		done <- time.Since(t0)
	}()
	if !poll.Wait(5*time.Second, time.Millisecond, func() bool { return fx.changes.Load() == 1 }) {
		t.Fatal("entry never applied")
	}
	applied := time.Since(t0)
	took := <-done
	if took < hold {
		t.Fatalf("validator returned after %v, before the %v hold", took, hold)
	}
	if applied >= hold {
		t.Fatalf("entry applied after %v, not before the %v hold", applied, hold)
	}
}

// TestRelayHoldScope: the hold applies to the first hop, to every hop
// when asked, never to the node's own publish, and never to a refused entry.
func TestRelayHoldScope(t *testing.T) {
	var holds atomic.Int32
	fx := newRelayFixture(t, time.Millisecond, func(context.Context, time.Duration) { holds.Add(1) })
	ctx := context.Background()
	// A publisher per entry: each is its publisher's first (seq 1).
	pub, pub2, pub3 := newKey(t), newKey(t), newKey(t)
	relayer := peerOf(t, newKey(t))
	check := func(name string, everyHop bool, e *schema.Entry, from peer.ID, want pubsub.ValidationResult, wantHold int32) {
		t.Helper()
		holds.Store(0)
		fx.r.relayedHold = 0
		if everyHop {
			fx.r.relayedHold = fx.r.hold
		}
		a, err := peer.Decode(e.Publisher)
		if err != nil {
			t.Fatal(err)
		}
		m := gossipMsg(e, a, from)
		if got := fx.r.validate(ctx, from, m); got != want || holds.Load() != wantHold {
			t.Errorf("%s: verdict %v with %d holds, want %v with %d", name, got, holds.Load(), want, wantHold)
		}
	}
	check("relayed, every hop", true, signedOffering(t, pub, "11111111-1111-4111-8111-111111111111"), relayer, pubsub.ValidationAccept, 1)
	check("relayed, first hop only", false, signedOffering(t, pub2, "22222222-2222-4222-8222-222222222222"), relayer, pubsub.ValidationAccept, 0)
	check("from its publisher, first hop only", false, signedOffering(t, pub3, "33333333-3333-4333-8333-333333333333"), peerOf(t, pub3), pubsub.ValidationAccept, 1)
	ownKey := newKey(t)
	fx.self = peerOf(t, ownKey)
	fx.r.self = fx.self
	fx.r.v = topics.Validator(topics.Catalogue, fx.self, fx.rep, nil, nil)
	if !poll.Wait(5*time.Second, time.Millisecond, func() bool { return fx.changes.Load() == 3 }) {
		t.Fatalf("%d of the 3 accepted entries applied", fx.changes.Load())
	}
	before := fx.changes.Load()
	check("own publish", true, signedOffering(t, ownKey, "44444444-4444-4444-8444-444444444444"), fx.self, pubsub.ValidationAccept, 0)
	time.Sleep(20 * time.Millisecond)
	if fx.changes.Load() != before {
		t.Error("own publish applied by the relay (Append applies it)")
	}
	bad := signedOffering(t, newKey(t), "55555555-5555-4555-8555-555555555555")
	m := gossipMsg(bad, relayer, relayer) // author is not the publisher: rejected
	holds.Store(0)
	if got := fx.r.validate(ctx, relayer, m); got != pubsub.ValidationReject || holds.Load() != 0 {
		t.Errorf("refused entry: verdict %v with %d holds, want reject without hold", got, holds.Load())
	}
}
