package topics

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/schema"
)

// TestEntryVectorsOnGossip runs the conformance vectors
// (testdata/protocol/entries.json) through the validator, each published
// by its publisher on its kind's topic (the catalogue for an unknown
// kind): refuse is Reject, defer is Ignore, accept is Accept.
func TestEntryVectorsOnGossip(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "protocol", "entries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		NowMs   int64 `json:"now_ms"`
		Vectors []struct {
			Name    string `json:"name"`
			Gossip  string `json:"gossip"`
			WireHex string `json:"wire_hex"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	want := map[string]pubsub.ValidationResult{"accept": pubsub.ValidationAccept, "refuse": pubsub.ValidationReject, "defer": pubsub.ValidationIgnore}
	self, relay := pid(key(9)), pid(key(8))
	for _, v := range f.Vectors {
		wire, err := hex.DecodeString(v.WireHex)
		if err != nil {
			t.Fatal(err)
		}
		topic, author := Catalogue, relay
		if e, err := schema.UnmarshalEntryAnyKindUnverified(wire); err == nil {
			if t, ok := ForKind(e.Kind); ok {
				topic = t
			}
			author, _ = peer.Decode(e.Publisher)
		}
		m := &pubsub.Message{Message: &pb.Message{Data: wire, From: []byte(author), Topic: &topic}, ReceivedFrom: relay}
		got, _, why := verdict(topic, self, fakeCheck{}, relay, m, time.UnixMilli(f.NowMs))
		if got != want[v.Gossip] {
			t.Errorf("%s: verdict %v (%s), the vector says %s", v.Name, got, why, v.Gossip)
		}
	}
}
