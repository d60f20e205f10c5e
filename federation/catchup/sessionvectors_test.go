package catchup

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// The catch-up session vectors of docs/PROTOCOL.md, section 8: what a
// requester holds, the frames a responder answers with, and what the
// requester must make of them. -update rewrites the file from the
// generator below; the expectations in it are written by hand, not taken
// from this implementation.

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata/protocol/catchup.json")
	}
}

type sessionVectorFile struct {
	Format  string            `json:"format"`
	NowMs   int64             `json:"now_ms"`
	Seeds   map[string]string `json:"publisher_seeds_hex"`
	Log     map[string]string `json:"log"` // name → wire form, hex
	Session []sessionVector   `json:"sessions"`
}

type sessionVector struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	// Holds names the log entries the requester holds before the session.
	Holds []string `json:"holds"`
	// Frames are the responder's whole frames (uvarint length, type,
	// payload), hex: the first answers hello; if it is differ, the rest
	// follow the requester's marks-end.
	Frames []string `json:"frames_hex"`
	// Expect is ok (the session ends well), violation (the requester ends
	// it and keeps nothing of it) or refused (a budget refusal: nothing
	// kept, no new session before the wait).
	Expect string `json:"expect"`
	// After an ok session: the log entries held, and the marks.
	Held  []string          `json:"held,omitempty"`
	Marks map[string]uint64 `json:"marks"`
}

const sessionVectorsFormat = "difronte-catchup-vectors/1"

func sessionVectorsPath() string {
	return filepath.Join("..", "..", "testdata", "protocol", "catchup.json")
}

// vectorOffering is schema's sample offering under another id.
func vectorOffering(t testing.TB, id, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "testdata", "offering-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["id"], m["name"] = id, name
	out, _ := json.Marshal(m)
	return out
}

func buildSessionVectors(t *testing.T) sessionVectorFile {
	ctx := context.Background()
	pa, pb := privKey(41), privKey(42)
	a, b := pubID(pa), pubID(pb)
	r, err := replica.Open(ctx, dssync.MutexWrap(datastore.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	const k1, k2 = "5b0f3c1e-8a4d-4c2b-9e7f-000000000001", "5b0f3c1e-8a4d-4c2b-9e7f-000000000002"
	log := map[string]*schema.Entry{}
	add := func(name string, priv ed25519.PrivateKey, key string, body []byte, tomb bool) {
		e, err := r.Append(ctx, priv, schema.KindOffering, key, body, tomb, t0)
		if err != nil {
			t.Fatal(name, err)
		}
		log[name] = e
	}
	add("a1", pa, k1, vectorOffering(t, k1, "Pasti a domicilio"), false)
	add("a2", pa, k2, vectorOffering(t, k2, "Trasporto sociale"), false)
	add("a3", pa, k1, vectorOffering(t, k1, "Pasti a domicilio, anche la sera"), false) // supersedes a1
	add("a4", pa, k2, nil, true)                                                        // withdraws a2
	log["a5cp"] = checkpoint(t, r, pa)                                                  // seq 5: a3 and a4 current
	add("b1", pb, k1, vectorOffering(t, k1, "Assistenza domiciliare"), false)
	forged := *log["a3"]
	forged.Sig = append([]byte(nil), forged.Sig...)
	forged.Sig[0] ^= 1

	fr := func(typ byte, payload []byte) string { return hex.EncodeToString(appendFrame(nil, typ, payload)) }
	entry := func(name string) string { return fr(fEntry, log[name].Marshal()) }
	section := func(pub string) string { return fr(fSection, []byte(pub)) }
	end := func(m uint64) string { return fr(fSectionEnd, appendUvarint(nil, m)) }
	differ, done := fr(fDiffer, nil), fr(fDone, nil)
	refused := func(reason, wait uint64) string {
		return fr(fRefused, appendUvarint(appendUvarint(nil, reason), wait))
	}
	none := map[string]uint64{}
	whole := []string{"a3", "a4", "a5cp"}
	s := []sessionVector{
		{"whole log with its checkpoint", "current entries only, in seq order; the checkpoint proves completeness through 5",
			nil, []string{differ, section(a), entry("a3"), entry("a4"), entry("a5cp"), end(5), done}, "ok", whole, map[string]uint64{a: 5}},
		{"whole log without its checkpoint", "seqs 1 and 2 were never seen: the mark moves by contiguity only and stays at 0",
			nil, []string{differ, section(a), entry("a3"), entry("a4"), end(4), done}, "ok", []string{"a3", "a4"}, none},
		{"censorship by mark", "a peer's vouched mark never raises the requester's",
			nil, []string{differ, section(a), entry("a4"), end(4), done}, "ok", []string{"a4"}, none},
		{"two publishers", "sections in publisher order, each with its own mark",
			nil, []string{differ, section(a), entry("a3"), entry("a4"), entry("a5cp"), end(5), section(b), entry("b1"), end(1), done}, "ok", append(whole, "b1"), map[string]uint64{a: 5, b: 1}},
		{"in sync", "equal digests end the session at once",
			whole, []string{fr(fInSync, nil)}, "ok", whole, map[string]uint64{a: 5}},
		{"entry of another publisher", "an entry must be of its section's publisher",
			nil, []string{differ, section(a), entry("b1"), end(1), done}, "violation", nil, none},
		{"seq at or below the mark", "the requester asked only for seqs above its mark 5",
			whole, []string{differ, section(a), entry("a3"), end(3), done}, "violation", nil, map[string]uint64{a: 5}},
		{"seqs out of order", "entries of a section come in seq order",
			nil, []string{differ, section(a), entry("a4"), entry("a3"), end(4), done}, "violation", nil, none},
		{"vouched mark above the last seq sent", "section-end vouches at most for the last seq sent",
			nil, []string{differ, section(a), entry("a3"), end(4), done}, "violation", nil, none},
		{"entry outside a section", "an entry frame before any section",
			nil, []string{differ, entry("a3"), done}, "violation", nil, none},
		{"forged signature", "every entry is verified before it is stored",
			nil, []string{differ, section(a), fr(fEntry, forged.Marshal()), end(3), done}, "violation", nil, none},
		{"unknown frame type", "type 99 is not a catch-up frame",
			nil, []string{differ, fr(99, nil)}, "violation", nil, none},
		{"oversized frame", "a frame length above 1 MiB",
			nil, []string{differ, hex.EncodeToString(appendUvarint(nil, MaxFrame+1))}, "violation", nil, none},
		{"refused with a reason outside 1-4", "reason 5 is a protocol violation",
			nil, []string{refused(5, 30)}, "violation", nil, none},
		{"refused at hello", "sessions budget spent: wait 30 s before the next session",
			nil, []string{refused(1, 30)}, "refused", nil, none},
		{"refused between sections", "the bytes budget ran out after a section: what was sent is kept",
			nil, []string{differ, section(a), entry("a3"), entry("a4"), entry("a5cp"), end(5), refused(2, 60)}, "ok", whole, map[string]uint64{a: 5}},
	}
	wire := map[string]string{}
	for n, e := range log {
		wire[n] = hex.EncodeToString(e.Marshal())
	}
	seeds := map[string]string{a: hex.EncodeToString(pa.Seed()), b: hex.EncodeToString(pb.Seed())}
	return sessionVectorFile{Format: sessionVectorsFormat, NowMs: t0.UnixMilli(), Seeds: seeds, Log: wire, Session: s}
}

// TestSessionVectors plays every session of testdata/protocol/catchup.json
// from a scripted responder against this requester.
func TestSessionVectors(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		b, err := json.MarshalIndent(buildSessionVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sessionVectorsPath(), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(sessionVectorsPath())
	if err != nil {
		t.Fatal(err)
	}
	var f sessionVectorFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Format != sessionVectorsFormat || len(f.Session) < 15 {
		t.Fatalf("%s: %v (%d sessions)", sessionVectorsPath(), err, len(f.Session))
	}
	log := map[string]*schema.Entry{}
	for n, h := range f.Log {
		b, _ := hex.DecodeString(h)
		e, err := schema.UnmarshalEntry(b)
		if err != nil {
			t.Fatalf("log entry %s: %v", n, err)
		}
		log[n] = e
	}
	mn := mocknet.New()
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(time.UnixMilli(f.NowMs))
	var nodes []*node
	defer func() { closeAll(t, mn, nodes...) }()
	for _, v := range f.Session {
		t.Run(v.Name, func(t *testing.T) {
			n := newNode(t, mn, nil, Options{ValidateBody: schema.ValidateBody, Clock: clk, SessionTimeout: 5 * time.Second})
			nodes = append(nodes, n)
			linkAll(t, mn)
			hold(t, n.r, log, v.Holds)
			digest, marks := n.r.Digest(), fmt.Sprint(n.r.Marks())
			scriptedResponder(t, evil, v.Frames)
			_, err := n.s.Sync(context.Background(), evil.ID())
			var refusal *budget.Refusal
			switch v.Expect {
			case "ok":
				if err != nil {
					t.Fatalf("session failed: %v", err)
				}
				want := newNode(t, mn, nil, Options{})
				nodes = append(nodes, want)
				hold(t, want.r, log, v.Held)
				if n.r.Digest() != want.r.Digest() {
					t.Fatalf("held after the session differs from %v", v.Held)
				}
			case "refused":
				if !errors.As(err, &refusal) {
					t.Fatalf("want a budget refusal, got %v", err)
				}
			default:
				if err == nil || errors.As(err, &refusal) {
					t.Fatalf("want a protocol violation, got %v", err)
				}
			}
			if v.Expect != "ok" && (n.r.Digest() != digest || fmt.Sprint(n.r.Marks()) != marks) {
				t.Fatal("a session that did not end well changed the replica")
			}
			if got := marksOf(n.r); fmt.Sprint(got) != fmt.Sprint(v.Marks) {
				t.Fatalf("marks %v, the vector says %v", got, v.Marks)
			}
		})
	}
}

func hold(t *testing.T, r *replica.Replica, log map[string]*schema.Entry, names []string) {
	t.Helper()
	for _, n := range names {
		if _, err := r.Apply(context.Background(), log[n]); err != nil {
			t.Fatalf("holding %s: %v", n, err)
		}
	}
}

// marksOf is the requester's non-zero marks.
func marksOf(r *replica.Replica) map[string]uint64 {
	m := map[string]uint64{}
	for p, v := range r.Marks() {
		if v > 0 {
			m[p] = v
		}
	}
	return m
}

// scriptedResponder answers hello with the first frame and, after a
// differ, the requester's marks-end with the rest.
func scriptedResponder(t *testing.T, h host.Host, frames []string) {
	t.Helper()
	var raw [][]byte
	for _, s := range frames {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	h.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Reset()
		fr := newFrameReader(st)
		w := bufio.NewWriter(st)
		if _, _, err := fr.next(MaxFrame); err != nil {
			return
		}
		_, _ = w.Write(raw[0])
		_ = w.Flush()
		if len(raw) > 1 {
			for range 1000 {
				typ, _, err := fr.next(MaxFrame)
				if err != nil || typ == fMarksEnd {
					break
				}
			}
			for _, b := range raw[1:] {
				_, _ = w.Write(b)
			}
			_ = w.Flush()
		}
		_, _ = io.Copy(io.Discard, st)
	})
}
