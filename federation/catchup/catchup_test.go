package catchup

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func privKey(i int) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0], s[1], s[2] = byte(i), byte(i>>8), 0xca
	return ed25519.NewKeyFromSeed(s)
}

func pubID(priv ed25519.PrivateKey) string {
	return schema.PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
}

// jsonOnly stands in for schema.ValidateBody where the fixtures are not
// catalogue data; TestHostileResponder runs the real validator.
func jsonOnly(_ schema.Kind, _ string, body []byte) error {
	if !json.Valid(body) {
		return errors.New("not JSON")
	}
	return nil
}

func TestPeerIDMatchesLibp2p(t *testing.T) {
	for i := range 50 {
		priv := privKey(i)
		lpub, err := crypto.UnmarshalEd25519PublicKey(priv.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		want, err := peer.IDFromPublicKey(lpub)
		if err != nil {
			t.Fatal(err)
		}
		got := pubID(priv)
		if got != want.String() {
			t.Fatalf("key %d: schema %s, libp2p %s", i, got, want)
		}
		back, err := schema.PublicKeyFromPeerID(want.String())
		if err != nil || !back.Equal(priv.Public()) {
			t.Fatalf("key %d: libp2p ID does not decode back: %v", i, err)
		}
	}
}

type node struct {
	h  host.Host
	ds datastore.Batching
	r  *replica.Replica
	s  *Service
}

func newNode(t testing.TB, mn mocknet.Mocknet, ds datastore.Batching, opts Options) *node {
	t.Helper()
	h, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	if ds == nil {
		ds = dssync.MutexWrap(datastore.NewMapDatastore())
	}
	r, err := replica.Open(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if opts.ValidateBody == nil {
		opts.ValidateBody = jsonOnly
	}
	return &node{h: h, ds: ds, r: r, s: New(h, r, opts)}
}

func linkAll(t testing.TB, mn mocknet.Mocknet) {
	t.Helper()
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
}

func closeAll(t testing.TB, mn mocknet.Mocknet, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		if err := n.s.Close(); err != nil {
			t.Error(err)
		}
	}
	if err := mn.Close(); err != nil {
		t.Error(err)
	}
}

// fixture is a federation's logs: publishers, their entries in seq order,
// and base[p], the seq below which the lagging replica has everything.
type fixture struct {
	logs [][]*schema.Entry
	base []uint64
}

// buildFixture makes pubs logs of perPub records each, then spreads
// changes (updates, new keys, withdrawals) over their tails. Only the tail
// entries are signed: the head ones never cross the wire (they are stored
// directly, and the replica trusts its caller), and an unsigned entry that
// did cross would fail verification and the test.
func buildFixture(t testing.TB, pubs, perPub, changes int) fixture {
	t.Helper()
	fx := fixture{logs: make([][]*schema.Entry, pubs), base: make([]uint64, pubs)}
	placeholder := make([]byte, ed25519.SignatureSize)
	for p := range pubs {
		priv := privKey(p)
		pub := pubID(priv)
		log := make([]*schema.Entry, 0, perPub+changes/pubs+1)
		for i := range perPub {
			k := fmt.Sprintf("o-%d-%d", p, i)
			log = append(log, &schema.Entry{Publisher: pub, Seq: uint64(i + 1), Kind: schema.KindOffering, Key: k,
				IssuedAt: t0, Body: fmt.Appendf(nil, `{"id":%q,"name":"servizio %d"}`, k, i), Sig: placeholder})
		}
		fx.base[p] = uint64(perPub)
		n := changes / pubs
		if p < changes%pubs {
			n++
		}
		for c := range n {
			seq := uint64(len(log) + 1)
			e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, IssuedAt: t0.Add(time.Hour)}
			switch c % 3 {
			case 0: // update
				e.Key = fmt.Sprintf("o-%d-%d", p, c)
				e.Body = fmt.Appendf(nil, `{"id":%q,"name":"aggiornato %d"}`, e.Key, seq)
			case 1: // new key
				e.Key = fmt.Sprintf("n-%d-%d", p, c)
				e.Body = fmt.Appendf(nil, `{"id":%q,"name":"nuovo"}`, e.Key)
			case 2: // withdrawal
				e.Key = fmt.Sprintf("o-%d-%d", p, c+7)
				e.Tombstone = true
			}
			if err := e.Sign(priv); err != nil {
				t.Fatal(err)
			}
			log = append(log, e)
		}
		fx.logs[p] = log
	}
	return fx
}

// withCheckpoints ends every log with its publisher's checkpoint, as an
// honest publisher's node appends one a moment after its changes.
func (fx fixture) withCheckpoints(t testing.TB) fixture {
	t.Helper()
	for p, log := range fx.logs {
		cur := make(map[string]schema.LogRef)
		for _, e := range log {
			cur[string(e.Kind)+"\x00"+e.Key] = schema.LogRef{Seq: e.Seq, Kind: e.Kind, Key: e.Key, Tombstone: e.Tombstone}
		}
		refs := make([]schema.LogRef, 0, len(cur))
		for _, r := range cur {
			refs = append(refs, r)
		}
		cp := &schema.Entry{Seq: uint64(len(log) + 1), Kind: schema.KindCheckpoint, Key: schema.CheckpointKey,
			IssuedAt: t0.Add(time.Hour), Body: schema.CheckpointBody(refs)}
		if err := cp.Sign(privKey(p)); err != nil {
			t.Fatal(err)
		}
		fx.logs[p] = append(log, cp)
	}
	return fx
}

// load applies every log entry up to limit(p) to r.
func (fx fixture) load(t testing.TB, r *replica.Replica, full bool) {
	t.Helper()
	for p, log := range fx.logs {
		n := len(log)
		if !full {
			n = int(fx.base[p])
		}
		if _, err := r.ApplyBatch(context.Background(), log[:n]); err != nil {
			t.Fatal(err)
		}
	}
}

func countSince(t testing.TB, r *replica.Replica, marks map[string]uint64) int {
	t.Helper()
	n := 0
	for _, ps := range r.Publishers() {
		if err := r.Since(context.Background(), ps.Publisher, marks[ps.Publisher], func(*schema.Entry) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestCatchupMissingChanges(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	pubs, perPub, changes := 300, 334, 1000
	if testing.Short() || raceEnabled {
		pubs, perPub, changes = 60, 100, 200
	}
	fx := buildFixture(t, pubs, perPub, changes)
	mn := mocknet.New()
	a := newNode(t, mn, nil, Options{})
	b := newNode(t, mn, nil, Options{})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	fx.load(t, a.r, true)
	fx.load(t, b.r, false)
	missing := countSince(t, a.r, b.r.Marks())
	if missing == 0 || missing > changes {
		t.Fatalf("fixture: %d missing entries for %d changes", missing, changes)
	}

	st, err := b.s.Sync(context.Background(), a.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if b.r.Digest() != a.r.Digest() {
		t.Fatal("digests differ after catch-up")
	}
	if st.Entries != missing || st.Applied != missing || st.RoundTrips != 2 || st.Truncated {
		t.Fatalf("stats %+v, want exactly %d entries in 2 round trips", st, missing)
	}
	overhead := st.BytesSent + st.BytesReceived - st.EntryBytes
	t.Logf("%d of %d records: %+v, overhead %d bytes", missing, pubs*perPub, st, overhead)
	for pub, m := range a.r.Marks() {
		if b.r.Marks()[pub] != m {
			t.Fatalf("mark of %s: %d, want %d", pub, b.r.Marks()[pub], m)
		}
	}

	// In sync: one round trip of a few dozen bytes.
	st, err = b.s.Sync(context.Background(), a.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if st.RoundTrips != 1 || st.Entries != 0 || st.BytesSent+st.BytesReceived > 64 {
		t.Fatalf("in-sync stats %+v", st)
	}

	// Restart keeps marks and state.
	r2, err := replica.Open(context.Background(), b.ds)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Digest() != a.r.Digest() || fmt.Sprint(r2.Marks()) != fmt.Sprint(b.r.Marks()) {
		t.Fatal("reopened replica lost marks or state")
	}
}

func TestRestartDownloadsOnlyNewEntries(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	a := newNode(t, mn, nil, Options{})
	b := newNode(t, mn, nil, Options{})
	linkAll(t, mn)
	for p := range 3 {
		for i := range 20 {
			if _, err := a.r.Append(ctx, privKey(p), schema.KindOffering, fmt.Sprint("k", i%15), []byte(`{"n":1}`), false, t0); err != nil {
				t.Fatal(err)
			}
		}
		checkpoint(t, a.r, privKey(p))
	}
	// Each publisher's checkpoint comes along: it is what lets b's marks
	// advance past the superseded seqs (replica/checkpoint.go).
	if st, err := b.s.Sync(ctx, a.h.ID()); err != nil || st.Entries-st.Checkpoints != 45 {
		t.Fatalf("first sync: %+v %v", st, err)
	}
	// b restarts: a new replica and service on the same datastore.
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := replica.Open(ctx, b.ds)
	if err != nil {
		t.Fatal(err)
	}
	b.r, b.s = r, New(b.h, r, Options{ValidateBody: jsonOnly})
	defer closeAll(t, mn, a, b)
	for i := range 5 {
		if _, err := a.r.Append(ctx, privKey(1), schema.KindOffering, fmt.Sprint("new", i), []byte(`{"n":2}`), false, t0); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint(t, a.r, privKey(1))
	st, err := b.s.Sync(ctx, a.h.ID())
	if err != nil || st.Entries-st.Checkpoints != 5 || b.r.Digest() != a.r.Digest() {
		t.Fatalf("sync after restart: %+v %v", st, err)
	}
}

// TestBudgetTruncates checks that a session cut short by the entry budget
// vouches only for what it sent, and later Syncs complete the state.
func TestBudgetTruncates(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	const budget = 7
	a := newNode(t, mn, nil, Options{})
	b := newNode(t, mn, nil, Options{MaxEntriesPerSession: budget})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	// 20 appends over 15 keys, some withdrawals: more live entries than
	// two budgets, so two sessions are cut short.
	for i := range 20 {
		if _, err := a.r.Append(ctx, privKey(0), schema.KindOffering, fmt.Sprint("k", i%15), bodyUnless(i%5 == 4), i%5 == 4, t0); err != nil {
			t.Fatal(err)
		}
	}
	// The publisher checkpoints its log, as honest nodes do, so the
	// requester can raise its mark once it holds everything.
	if _, err := a.r.Checkpoint(ctx, privKey(0), t0); err != nil {
		t.Fatal(err)
	}
	pub := pubID(privKey(0))
	var live []uint64 // the seqs a serves, in the order it sends them
	if err := a.r.Since(ctx, pub, 0, func(e *schema.Entry) error { live = append(live, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(live) <= 2*budget {
		t.Fatalf("fixture: %d live entries, want more than two budgets of %d", len(live), budget)
	}
	total, cut := 0, 0
	for round := 0; round < 5 && b.r.Digest() != a.r.Digest(); round++ {
		st, err := b.s.Sync(ctx, a.h.ID())
		if err != nil {
			t.Fatal(err)
		}
		total += st.Entries
		if !st.Truncated {
			continue
		}
		cut++
		// A cut session resumes where the responder said it stopped:
		// the seq of the last entry sent, not the responder's mark. The
		// requester's own mark never moves on that word.
		b.s.mu.Lock()
		resume := b.s.resume[a.h.ID()][pub]
		b.s.mu.Unlock()
		if want := live[total-1]; resume != want {
			t.Fatalf("round %d: resume from %d after %d of %d entries (stats %+v), want %d", round, resume, total, len(live), st, want)
		}
		if got := b.r.Marks()[pub]; got != 0 {
			t.Fatalf("round %d: mark %d raised on the responder's word", round, got)
		}
	}
	if b.r.Digest() != a.r.Digest() || total != len(live) || cut != 2 {
		t.Fatalf("budgeted catch-up: total %d of %d entries, %d sessions cut, digests equal %v", total, len(live), cut, b.r.Digest() == a.r.Digest())
	}
	if got, want := b.r.Marks()[pub], a.r.Marks()[pub]; got != want {
		t.Fatalf("mark after the checkpoint arrived: %d, want %d", got, want)
	}
}

// fakeResponder answers catch-up with whatever frames script writes after
// reading the requester's hello and marks.
func fakeResponder(h host.Host, script func(w *bufio.Writer)) {
	h.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Reset()
		fr := newFrameReader(st)
		w := bufio.NewWriter(st)
		if _, _, err := fr.next(MaxFrame); err != nil {
			return
		}
		_ = writeFrame(w, fDiffer, nil)
		_ = w.Flush()
		for range 1000 {
			typ, _, err := fr.next(MaxFrame)
			if err != nil || typ == fMarksEnd {
				break
			}
		}
		script(w)
		_ = w.Flush()
		// Hold the stream until the requester gives up on it.
		_, _ = io.Copy(io.Discard, st)
	})
}

func TestHostileResponder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	// The requester runs the real body validator.
	r := newNode(t, mn, nil, Options{ValidateBody: schema.ValidateBody, SessionTimeout: 2 * time.Second})
	honest := newNode(t, mn, nil, Options{})
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, r, honest)
	linkAll(t, mn)

	pa, pb := privKey(1), privKey(2)
	body := func(k string) []byte { return fmt.Appendf(nil, `{"id":%q,"name":"Pasti a domicilio"}`, k) }
	for i := range 3 {
		k := fmt.Sprint("k", i)
		if _, err := r.r.Append(ctx, pa, schema.KindOffering, k, body(k), false, t0); err != nil {
			t.Fatal(err)
		}
	}
	sign := func(priv ed25519.PrivateKey, seq uint64, k string, b []byte) []byte {
		e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, Key: k, IssuedAt: t0, Body: b}
		if err := e.Sign(priv); err != nil {
			t.Fatal(err)
		}
		return e.Marshal()
	}
	forged := sign(pb, 4, "x", body("x"))
	forged[len(forged)-1] ^= 1
	section := func(w *bufio.Writer, priv ed25519.PrivateKey, entries ...[]byte) {
		_ = writeFrame(w, fSection, []byte(pubID(priv)))
		for _, e := range entries {
			_ = writeFrame(w, fEntry, e)
		}
	}
	cases := []struct {
		name   string
		want   string // in the error
		script func(w *bufio.Writer)
	}{
		{"garbage", "frame", func(w *bufio.Writer) { _, _ = w.WriteString("\x05\xff\xff\xff\xff\xff garbage") }},
		{"oversized frame", "limit", func(w *bufio.Writer) { _, _ = w.Write(appendUvarint(nil, MaxFrame+1)) }},
		{"forged signature", "signature", func(w *bufio.Writer) { section(w, pb, forged) }},
		{"entry of another publisher", "in the section of", func(w *bufio.Writer) { section(w, pa, sign(pb, 1, "x", body("x"))) }},
		{"seq at the mark", "at or below the mark", func(w *bufio.Writer) { section(w, pa, sign(pa, 3, "x", body("x"))) }},
		{"invalid body", "body of", func(w *bufio.Writer) { section(w, pb, sign(pb, 1, "x", []byte(`{}`))) }},
		{"entry outside a section", "outside a section", func(w *bufio.Writer) { _ = writeFrame(w, fEntry, sign(pb, 1, "x", body("x"))) }},
		{"mark above what was sent", "above the last seq", func(w *bufio.Writer) {
			section(w, pb)
			_ = writeFrame(w, fSectionEnd, appendUvarint(nil, 100))
		}},
		{"unknown frame", "unexpected frame", func(w *bufio.Writer) { _ = writeFrame(w, 99, nil) }},
		{"oversized entry", "entry of 65537 bytes", func(w *bufio.Writer) {
			section(w, pb)
			_ = writeFrame(w, fEntry, make([]byte, schema.MaxEntrySize+1))
		}},
		{"stall", "context deadline", func(w *bufio.Writer) {}},
	}
	digest, marks := r.r.Digest(), fmt.Sprint(r.r.Marks())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fakeResponder(evil, c.script)
			st, err := r.s.Sync(ctx, evil.ID())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one about %q (stats %+v)", err, c.want, st)
			}
			if st.Applied != 0 || r.r.Digest() != digest || fmt.Sprint(r.r.Marks()) != marks {
				t.Fatalf("hostile answer changed the replica: %+v", st)
			}
		})
	}
	// Still works with an honest peer sending a valid catalogue offering.
	sample, err := os.ReadFile(filepath.Join("..", "..", "schema", "testdata", "offering-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ ID string }
	if err := json.Unmarshal(sample, &o); err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateBody(schema.KindOffering, o.ID, sample); err != nil {
		t.Fatalf("schema's own sample offering does not validate: %v", err)
	}
	if _, err := honest.r.Append(ctx, pb, schema.KindOffering, o.ID, sample, false, t0); err != nil {
		t.Fatal(err)
	}
	if st, err := r.s.Sync(ctx, honest.h.ID()); err != nil || st.Applied != 1 {
		t.Fatalf("honest sync after hostile ones: %+v %v", st, err)
	}
	evil.RemoveStreamHandler(ProtocolID)
}

func TestSessionsPerPeerLimited(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mn := mocknet.New()
	a := newNode(t, mn, nil, Options{MaxSessionsPerPeer: 2})
	b := newNode(t, mn, nil, Options{})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	ctx := context.Background()
	var streams []network.Stream
	defer func() {
		for _, s := range streams {
			_ = s.Reset()
		}
	}()
	open := func() network.Stream {
		s, err := b.h.NewStream(ctx, a.h.ID(), ProtocolID)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
		_, _ = s.Write([]byte{0x01}) // a partial frame: the handler waits
		return s
	}
	open()
	open()
	var n int
	if !poll.Wait(5*time.Second, 5*time.Millisecond, func() bool {
		a.s.mu.Lock()
		n = a.s.serving[b.h.ID()]
		a.s.mu.Unlock()
		return n == 2
	}) {
		t.Fatalf("%d sessions started, want 2", n)
	}
	third := open()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("third concurrent session was served")
	}
}

func FuzzFrameReader(f *testing.F) {
	f.Add(appendFrame(nil, fHello, hello{version: 1, budget: 10}.append(nil)))
	f.Add(appendFrame(appendFrame(nil, fMarks, appendMark(nil, mark{"12D3KooWabc", 5})), fMarksEnd, nil))
	f.Add(appendFrame(nil, fSectionEnd, appendUvarint(nil, 1<<40)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := newFrameReader(bytesReader(b))
		var again []byte
		for range 1000 {
			typ, payload, err := fr.next(MaxFrame)
			if err != nil {
				break
			}
			again = appendFrame(again, typ, payload)
			switch typ {
			case fHello:
				if h, err := parseHello(payload); err == nil && string(h.append(nil)) != string(payload) {
					t.Fatal("hello does not round-trip")
				}
			case fMarks:
				_ = parseMarks(payload, func(mark) error { return nil })
			case fSectionEnd:
				_, _ = parseUvarintPayload(payload)
			}
		}
		if len(again) > len(b) {
			t.Fatal("decoded more than the input")
		}
	})
}

func bodyUnless(tomb bool) []byte {
	if tomb {
		return nil
	}
	return []byte(`{}`)
}
