package topics

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/schema"
)

// TestObservedReasons runs the conformance vectors through
// ValidatorObserved, each on a topic and from an author that may be wrong,
// and checks that what it observes is the verdict it returns, with a
// Reason from the fixed set: Accepted exactly when it accepts.
func TestObservedReasons(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "protocol", "entries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		NowMs   int64 `json:"now_ms"`
		Vectors []struct {
			WireHex string `json:"wire_hex"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	self, relay := pid(key(9)), pid(key(8))
	seen := map[Reason]bool{}
	for _, topic := range All() {
		var got pubsub.ValidationResult
		var why Reason
		v := ValidatorObserved(topic, self, fakeCheck{}, nil, fakeclock.New(time.UnixMilli(f.NowMs)),
			func(tp string, res pubsub.ValidationResult, r Reason) {
				if tp != topic {
					t.Fatalf("observed topic %q on %q", tp, topic)
				}
				got, why = res, r
			})
		for _, vec := range f.Vectors {
			wire, err := hex.DecodeString(vec.WireHex)
			if err != nil {
				t.Fatal(err)
			}
			authors := []peer.ID{relay, self}
			if e, err := schema.UnmarshalEntryAnyKindUnverified(wire); err == nil {
				pub, _ := peer.Decode(e.Publisher)
				authors = append(authors, pub)
			}
			for _, author := range authors {
				m := &pubsub.Message{Message: &pb.Message{Data: wire, From: []byte(author), Topic: &topic}, ReceivedFrom: relay}
				res := v(context.Background(), relay, m)
				if res != got || !slices.Contains(Reasons(), why) || (why == Accepted) != (res == pubsub.ValidationAccept) {
					t.Fatalf("verdict %v, observed %v %q", res, got, why)
				}
				seen[why] = true
			}
		}
	}
	if len(seen) < 4 || !seen[Accepted] {
		t.Fatalf("only %v observed", seen)
	}
}
