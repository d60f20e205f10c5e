package catchup

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"os"
	"path/filepath"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/schema"
)

// TestCensorshipByMarkFails is issue 12's attack: a peer that holds none
// of a publisher's entries but its newest ones sends only those and
// vouches for the publisher's whole log. The requester's mark must not
// move, so that an honest peer met afterwards still sends the older live
// entries and the node heals.
func TestCensorshipByMarkFails(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	r := newNode(t, mn, nil, Options{SessionTimeout: 5 * time.Second})
	honest := newNode(t, mn, nil, Options{})
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, r, honest)
	linkAll(t, mn)

	p := privKey(30)
	var newest *schema.Entry
	for i := range 12 {
		if newest, err = honest.r.Append(ctx, p, schema.KindOffering, fmt.Sprint("k", i%9), []byte(`{"n":1}`), false, t0); err != nil {
			t.Fatal(err)
		}
	}
	cp := checkpoint(t, honest.r, p)
	for _, sent := range [][]*schema.Entry{{newest}, {newest, cp}} {
		fakeResponder(evil, func(w *bufio.Writer) {
			_ = writeFrame(w, fSection, []byte(pubID(p)))
			for _, e := range sent {
				_ = writeFrame(w, fEntry, e.Marshal())
			}
			_ = writeFrame(w, fSectionEnd, appendUvarint(nil, sent[len(sent)-1].Seq))
			_ = writeFrame(w, fDone, nil)
		})
		if st, err := r.s.Sync(ctx, evil.ID()); err != nil || st.Entries != len(sent) {
			t.Fatalf("censoring session: %+v, %v", st, err)
		}
		if m := r.r.Marks()[pubID(p)]; m != 0 {
			t.Fatalf("mark of the censored publisher moved to %d on a peer's word", m)
		}
	}
	evil.RemoveStreamHandler(ProtocolID)

	st, err := r.s.Sync(ctx, honest.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if r.r.Digest() != honest.r.Digest() || r.r.Marks()[pubID(p)] != cp.Seq {
		t.Fatalf("after an honest peer: digest equal %v, mark %d (want %d); %+v",
			r.r.Digest() == honest.r.Digest(), r.r.Marks()[pubID(p)], cp.Seq, st)
	}
	live := 0
	if err := r.r.Current(ctx, schema.KindOffering, func(*schema.Entry) error { live++; return nil }); err != nil || live != 9 {
		t.Fatalf("live offerings after healing: %d, %v; want 9", live, err)
	}
}

// TestEntryVectorsInCatchup sends every entry of the conformance vectors
// (testdata/protocol/entries.json) from a responder: a refused one ends
// the session with nothing stored, a deferred one is skipped and not
// stored, an accepted one is stored.
func TestEntryVectorsInCatchup(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "protocol", "entries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		NowMs   int64 `json:"now_ms"`
		Vectors []struct {
			Name    string `json:"name"`
			Catchup string `json:"catchup"`
			WireHex string `json:"wire_hex"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mn := mocknet.New()
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(time.UnixMilli(f.NowMs))
	var nodes []*node
	defer func() { closeAll(t, mn, nodes...) }()
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			n := newNode(t, mn, nil, Options{ValidateBody: schema.ValidateBody, Clock: clk, SessionTimeout: 5 * time.Second})
			nodes = append(nodes, n)
			linkAll(t, mn)
			wire, _ := hex.DecodeString(v.WireHex)
			e, _ := schema.UnmarshalEntryAnyKindUnverified(wire)
			pub := "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5" // the vectors' publisher
			if e != nil {
				pub = e.Publisher
			}
			fakeResponder(evil, func(w *bufio.Writer) {
				_ = writeFrame(w, fSection, []byte(pub))
				_ = writeFrame(w, fEntry, wire)
				_ = writeFrame(w, fSectionEnd, appendUvarint(nil, 0))
				_ = writeFrame(w, fDone, nil)
			})
			st, err := n.s.Sync(ctx, evil.ID())
			held := len(n.r.Publishers()) > 0
			switch v.Catchup {
			case "accept":
				if err != nil || st.Applied != 1 || !held {
					t.Fatalf("accepted vector: %+v, %v", st, err)
				}
			case "defer":
				if err != nil || st.Deferred != 1 || held {
					t.Fatalf("deferred vector: %+v, %v, stored %v", st, err, held)
				}
			default:
				if err == nil || st.Applied != 0 || held {
					t.Fatalf("refused vector: %+v, %v, stored %v", st, err, held)
				}
			}
		})
	}
	evil.RemoveStreamHandler(ProtocolID)
}

// TestHonestCatchupCost: with publishers' checkpoints in the logs, a node
// that missed 1,000 of 100,000 records still catches up in 2 round trips,
// gets exactly the missing entries plus one checkpoint per publisher,
// reaches the same marks, and spends (checkpoints included) at least 20
// times fewer bytes than an id list of what it holds (docs/BENCHMARKS.md).
func TestHonestCatchupCost(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	pubs, perPub, changes := 300, 334, 1000
	small := testing.Short() || raceEnabled
	if small {
		pubs, perPub, changes = 60, 100, 200
	}
	fx := buildFixture(t, pubs, perPub, changes).withCheckpoints(t)
	mn := mocknet.New()
	a := newNode(t, mn, nil, Options{})
	b := newNode(t, mn, nil, Options{})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	fx.load(t, a.r, true)
	fx.load(t, b.r, false)
	st, err := b.s.Sync(context.Background(), a.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if st.RoundTrips != 2 || st.Entries-st.Checkpoints != changes || st.Checkpoints != pubs || b.r.Digest() != a.r.Digest() {
		t.Fatalf("stats %+v, want %d entries and %d checkpoints in 2 round trips", st, changes, pubs)
	}
	for pub, m := range a.r.Marks() {
		if b.r.Marks()[pub] != m {
			t.Fatalf("mark of %s: %d, want %d", pub, b.r.Marks()[pub], m)
		}
	}
	overhead := st.BytesSent + st.BytesReceived - (st.EntryBytes - st.CheckpointB)
	idList := int64(32 * pubs * perPub)
	t.Logf("overhead %d B (checkpoints %d B), id list %d B: %.1f×", overhead, st.CheckpointB, idList, float64(idList)/float64(overhead))
	if !small && idList < 20*overhead { // the ratio is stated for 100,000 records
		t.Fatalf("overhead %d B is not 20 times smaller than an id list of %d B", overhead, idList)
	}
}
