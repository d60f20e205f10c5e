package topics

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

type fakeCheck struct{ err error }

func (f fakeCheck) Check(*schema.Entry) error { return f.err }

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pid(k ed25519.PrivateKey) peer.ID {
	id, err := peer.Decode(schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey)))
	if err != nil {
		panic(err)
	}
	return id
}

const offerID = "0b6f9c4e-8f0e-4d8a-9a51-2f2b6c1d3e4f"

func offeringBody() []byte {
	b, _ := json.Marshal(schema.Offering{
		ID: offerID, Name: "Assistenza domiciliare", Description: "Visite a domicilio.",
		Category: "anziani.assistenza-domiciliare", Cost: schema.Cost{Type: schema.CostFree},
		Delivery: schema.DeliveryIndividual, Areas: []string{"080063"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@example.org"}, Status: schema.StatusActive,
	})
	return b
}

func entry(t testing.TB, k ed25519.PrivateKey, kind schema.Kind, body []byte, tomb bool) []byte {
	e := &schema.Entry{Seq: 3, Kind: kind, Key: offerID, Body: body, Tombstone: tomb, IssuedAt: time.UnixMilli(1_700_000_000_000)}
	if err := e.Sign(k); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

func msg(data []byte, author, from peer.ID) *pubsub.Message {
	topic := Catalogue
	return &pubsub.Message{Message: &pb.Message{Data: data, From: []byte(author), Topic: &topic}, ReceivedFrom: from}
}

func TestVerdict(t *testing.T) {
	pubKey, selfKey := key(1), key(2)
	pub, self, relay := pid(pubKey), pid(selfKey), pid(key(3))
	good := entry(t, pubKey, schema.KindOffering, offeringBody(), false)
	cases := []struct {
		name  string
		topic string
		data  []byte
		auth  peer.ID
		from  peer.ID
		check error
		want  pubsub.ValidationResult
	}{
		{"valid", Catalogue, good, pub, relay, nil, pubsub.ValidationAccept},
		{"valid tombstone", Catalogue, entry(t, pubKey, schema.KindOffering, nil, true), pub, relay, nil, pubsub.ValidationAccept},
		{"author is not publisher", Catalogue, good, relay, relay, nil, pubsub.ValidationReject},
		{"no author", Catalogue, good, "", relay, nil, pubsub.ValidationReject},
		{"wrong topic", Directory, good, pub, relay, nil, pubsub.ValidationReject},
		{"invalid body", Catalogue, entry(t, pubKey, schema.KindOffering, []byte(`{}`), false), pub, relay, nil, pubsub.ValidationReject},
		{"truncated", Catalogue, good[:len(good)-1], pub, relay, nil, pubsub.ValidationReject},
		{"stale", Catalogue, good, pub, relay, replica.ErrStale, pubsub.ValidationIgnore},
		{"duplicate", Catalogue, good, pub, relay, replica.ErrDuplicate, pubsub.ValidationIgnore},
		{"own publish", Catalogue, entry(t, selfKey, schema.KindOffering, offeringBody(), false), self, self, replica.ErrDuplicate, pubsub.ValidationAccept},
		{"own entry echoed", Catalogue, entry(t, selfKey, schema.KindOffering, offeringBody(), false), self, relay, nil, pubsub.ValidationIgnore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, e, why := verdict(c.topic, self, fakeCheck{c.check}, c.from, msg(c.data, c.auth, c.from), time.Now())
			if got != c.want {
				t.Fatalf("verdict %v (%s), want %v", got, why, c.want)
			}
			if (got == pubsub.ValidationAccept) != (e != nil) {
				t.Fatalf("accepted=%v but entry %v", got == pubsub.ValidationAccept, e)
			}
		})
	}
}

func TestKindTable(t *testing.T) {
	for _, k := range []schema.Kind{schema.KindOffering, schema.KindCoop} {
		name, ok := ForKind(k)
		if !ok || !Carries(name, k) {
			t.Errorf("kind %s has no topic", k)
		}
	}
	if _, ok := ForKind("bogus"); ok {
		t.Error("unknown kind has a topic")
	}
	seen := map[string]bool{}
	for _, name := range All() {
		if seen[name] {
			t.Errorf("topic %s listed twice", name)
		}
		seen[name] = true
	}
}

func TestMessageIDIsEntryID(t *testing.T) {
	data := entry(t, key(1), schema.KindOffering, offeringBody(), false)
	e, err := schema.UnmarshalEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	id := e.ID()
	if MessageID(&pb.Message{Data: data}) != string(id[:]) {
		t.Fatal("message id is not the entry id")
	}
}

func TestParamsAreValid(t *testing.T) {
	for _, p := range []pubsub.GossipSubParams{GossipParams(), DenseParams()} {
		if !(p.Dlo <= p.D && p.D <= p.Dhi && p.Dout < p.Dlo && p.Dout < p.D/2 && p.Dscore <= p.Dhi) {
			t.Fatalf("inconsistent mesh degrees %+v", p)
		}
		if p.IDontWantMessageThreshold <= p.Dhi*32 {
			t.Fatal("IDONTWANT threshold invites amplification")
		}
	}
	params, thresholds := ScoreParams(nil)
	if len(params.Topics) != len(All()) {
		t.Fatal("a topic has no score parameters")
	}
	if !(thresholds.GraylistThreshold < thresholds.PublishThreshold && thresholds.PublishThreshold < thresholds.GossipThreshold && thresholds.GossipThreshold < 0) {
		t.Fatalf("thresholds out of order: %+v", thresholds)
	}
}

// TestTunedForTopology pins the run-time choice of the router variant
// (docs/BENCHMARKS.md, issue 20): the thinnest mesh when the node expects
// links to at least half of the other members, holding the publisher's
// flood FullHold when it expects a link to every member and DenseHold
// otherwise; D=3 in a sparse federation and when the node does not know,
// holding the flood FloodHold and relayed entries RelayedHold; flood
// publishing and peer scoring in all.
func TestTunedForTopology(t *testing.T) {
	type variant struct {
		D, Dlo, Dhi   int
		hold, relayed time.Duration
		adaptive      bool
		unlinked      bool // ForwardUnlinked
	}
	of := func(tu Tuning) variant {
		return variant{tu.Params.D, tu.Params.Dlo, tu.Params.Dhi, tu.RelayDelay, tu.RelayedDelay, tu.AdaptiveHold, tu.ForwardUnlinked}
	}
	full := variant{2, 1, 2, 10 * time.Millisecond, 0, true, false}
	smallFull := variant{2, 1, 2, 10 * time.Millisecond, 0, false, false}
	dense := variant{2, 1, 2, time.Millisecond, 0, true, true}
	smallDense := variant{2, 1, 2, time.Millisecond, 0, false, true}
	sparse := variant{3, 2, 4, 2 * time.Millisecond, 3 * time.Millisecond, false, false}
	for _, c := range []struct {
		name string
		topo Topology
		want variant
	}{
		{"first start", Topology{}, sparse},
		{"alone", Topology{Members: 1}, sparse},
		{"30 all linked", Topology{Members: 30, Linked: 29}, full},
		{"60 all linked", Topology{Members: 60, Linked: 59}, full},
		{"10 all linked", Topology{Members: 10, Linked: 9}, smallFull},
		{"29 all linked", Topology{Members: 29, Linked: 28}, smallFull},
		{"10 with 8 links", Topology{Members: 10, Linked: 8}, smallDense},
		{"31 with 15 links", Topology{Members: 31, Linked: 15}, dense},
		{"31 with 14 links", Topology{Members: 31, Linked: 14}, sparse},
		{"30 with 8 links", Topology{Members: 30, Linked: 8}, sparse},
		{"60 with 8 links", Topology{Members: 60, Linked: 8}, sparse},
		{"200 up to the low water mark", Topology{Members: 200, Linked: 64}, sparse},
	} {
		tu := TunedFor(c.topo)
		if got := of(tu); got != c.want || !tu.FloodPublish || tu.NoScore {
			t.Errorf("%s: %+v flood %v noscore %v, want %+v with flood and scoring", c.name, got, tu.FloodPublish, tu.NoScore, c.want)
		}
	}
	if of(Tuned()) != sparse {
		t.Errorf("Tuned() is not the variant for an unknown topology")
	}
	// The options carry peer scoring: hostile peers are still demoted.
	if n := len(Options(nil, Topology{Members: 60, Linked: 59})); n != len(OptionsFor(nil, Tuning{NoScore: true}))+1 {
		t.Errorf("tuned options lack peer scoring (%d options)", n)
	}
}

// FuzzVerdict feeds arbitrary bytes to the validator: it never panics, and
// whatever it accepts is a canonical entry of the topic's kinds.
func FuzzVerdict(f *testing.F) {
	k := key(1)
	f.Add(entry(f, k, schema.KindOffering, offeringBody(), false))
	f.Add(entry(f, k, schema.KindOffering, nil, true))
	f.Add([]byte("DFE1"))
	f.Add([]byte{})
	author, self := pid(k), pid(key(2))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, e, _ := verdict(Catalogue, self, fakeCheck{}, author, msg(data, author, author), time.Now())
		if got != pubsub.ValidationAccept {
			return
		}
		if !bytes.Equal(e.Marshal(), data) || !Carries(Catalogue, e.Kind) {
			t.Fatalf("accepted a non-canonical or misplaced entry")
		}
	})
}
