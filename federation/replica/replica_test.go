package replica

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/schema"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(seed int) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0], s[1] = byte(seed), byte(seed>>8)
	return ed25519.NewKeyFromSeed(s)
}

func entry(t testing.TB, priv ed25519.PrivateKey, seq uint64, k string, tomb bool) *schema.Entry {
	t.Helper()
	e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, Key: k, Tombstone: tomb, IssuedAt: t0}
	if !tomb {
		e.Body = fmt.Appendf(nil, `{"id":%q,"name":"v%d"}`, k, seq)
	}
	if err := e.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return e
}

func open(t testing.TB, ds datastore.Batching) *Replica {
	t.Helper()
	r, err := Open(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newDS() datastore.Batching { return dssync.MutexWrap(datastore.NewMapDatastore()) }

func TestApplyHighestSeqWins(t *testing.T) {
	ctx := context.Background()
	r := open(t, newDS())
	a := key(1)
	var changes [][2]*schema.Entry
	r.OnChange(func(old, cur *schema.Entry) { changes = append(changes, [2]*schema.Entry{old, cur}) })

	steps := []struct {
		e         *schema.Entry
		check     error
		applied   bool
		wantSeq   uint64
		wantFound bool
	}{
		{entry(t, a, 2, "x", false), nil, true, 2, true},
		{entry(t, a, 2, "x", false), ErrDuplicate, false, 2, true},
		{entry(t, a, 1, "x", false), ErrStale, false, 2, true},
		{entry(t, a, 5, "x", false), nil, true, 5, true},
		{entry(t, a, 6, "x", true), nil, true, 6, true},
		{entry(t, a, 4, "x", false), ErrStale, false, 6, true},
	}
	for i, s := range steps {
		if err := r.Check(s.e); !errors.Is(err, s.check) {
			t.Fatalf("step %d: Check = %v, want %v", i, err, s.check)
		}
		applied, err := r.Apply(ctx, s.e)
		if err != nil || applied != s.applied {
			t.Fatalf("step %d: Apply = %v, %v; want %v", i, applied, err, s.applied)
		}
		got, err := r.Get(ctx, s.e.Publisher, schema.KindOffering, "x")
		if err != nil || got.Seq != s.wantSeq {
			t.Fatalf("step %d: Get = %v, %v; want seq %d", i, got, err, s.wantSeq)
		}
	}
	if len(changes) != 3 || changes[0][0] != nil || changes[1][0].Seq != 2 || changes[2][0].Seq != 5 || !changes[2][1].Tombstone {
		t.Fatalf("OnChange calls wrong: %v", changes)
	}
	if _, err := r.Get(ctx, steps[0].e.Publisher, schema.KindOffering, "nope"); !errors.Is(err, datastore.ErrNotFound) {
		t.Fatalf("Get of unknown key: %v", err)
	}
	n := 0
	if err := r.Current(ctx, schema.KindOffering, func(*schema.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("Current lists a withdrawn record: n=%d err=%v", n, err)
	}
}

func TestMarksAdvanceOnlyWithoutGaps(t *testing.T) {
	ctx := context.Background()
	ds := newDS()
	r := open(t, ds)
	a := key(1)
	pub := schema.PeerIDFromPublicKey(a.Public().(ed25519.PublicKey))
	steps := []struct {
		seq  uint64
		key  string
		mark uint64
	}{
		{1, "a", 1},
		{3, "b", 1}, // gap at 2
		{5, "b", 1}, // supersedes 3, which was still seen
		{2, "c", 3}, // fills 2; 3 was seen
		{4, "a", 5}, // fills 4; 5 held
		{7, "c", 5},
	}
	for _, s := range steps {
		if _, err := r.Apply(ctx, entry(t, a, s.seq, s.key, false)); err != nil {
			t.Fatal(err)
		}
		if got := r.Marks()[pub]; got != s.mark {
			t.Fatalf("after seq %d: mark %d, want %d", s.seq, got, s.mark)
		}
	}
	if err := r.RaiseMark(ctx, pub, 6); err != nil {
		t.Fatal(err)
	}
	if got := r.Marks()[pub]; got != 7 {
		t.Fatalf("RaiseMark(6) with 7 seen: mark %d, want 7", got)
	}
	// An entry at or below the mark for a key not held is an equivocation.
	if err := r.Check(entry(t, a, 6, "zzz", false)); !errors.Is(err, ErrStale) {
		t.Fatalf("Check below mark: %v", err)
	}
	// Restart keeps marks, index and digest.
	d := r.Digest()
	r2 := open(t, ds)
	if r2.Marks()[pub] != 7 || r2.Digest() != d {
		t.Fatalf("reopen lost state: marks %v", r2.Marks())
	}
	if err := r2.Check(entry(t, a, 5, "b", false)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("reopened Check: %v", err)
	}
	if ps := r2.Publishers(); len(ps) != 1 || ps[0] != (PublisherStat{Publisher: pub, Mark: 7, MaxSeq: 7, Live: 3}) {
		t.Fatalf("Publishers = %+v", ps)
	}
}

func TestAppendAndSince(t *testing.T) {
	ctx := context.Background()
	r := open(t, newDS())
	a := key(1)
	pub := schema.PeerIDFromPublicKey(a.Public().(ed25519.PublicKey))
	for i, k := range []string{"a", "b", "a", "c", "b"} {
		body := fmt.Appendf(nil, `{"id":%q,"name":"n"}`, k)
		tomb := i == 4
		if tomb {
			body = nil
		}
		e, err := r.Append(ctx, a, schema.KindOffering, k, body, tomb, t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.Publisher != pub || e.Verify() != nil {
			t.Fatalf("append %d: %+v", i, e)
		}
	}
	if r.Marks()[pub] != 5 {
		t.Fatalf("own mark %d", r.Marks()[pub])
	}
	var seqs []uint64
	if err := r.Since(ctx, pub, 1, func(e *schema.Entry) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[3 4 5]" {
		t.Fatalf("Since(1) = %v, want [3 4 5]", seqs)
	}
	live := map[string]bool{}
	if err := r.Current(ctx, schema.KindOffering, func(e *schema.Entry) error { live[e.Key] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || !live["a"] || !live["c"] {
		t.Fatalf("Current = %v", live)
	}
}

func TestDigestIsOrderIndependent(t *testing.T) {
	ctx := context.Background()
	var es []*schema.Entry
	for p := range 3 {
		for s := range 20 {
			es = append(es, entry(t, key(p), uint64(s+1), fmt.Sprint("k", s%7), s%5 == 4))
		}
	}
	r1, r2 := open(t, newDS()), open(t, newDS())
	if _, err := r1.ApplyBatch(ctx, es); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := append([]*schema.Entry(nil), es...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := 0; i < len(shuffled); i += 7 {
		if _, err := r2.ApplyBatch(ctx, shuffled[i:min(i+7, len(shuffled))]); err != nil {
			t.Fatal(err)
		}
	}
	if r1.Digest() != r2.Digest() {
		t.Fatal("same state, different digests")
	}
	if r1.Digest() == (open(t, newDS())).Digest() {
		t.Fatal("digest of a full replica equals the empty one")
	}
	for _, p := range r1.Publishers() {
		if p.Mark != 20 {
			t.Fatalf("in-order batch did not advance mark: %+v", p)
		}
	}
	// Both replicas hold the same bytes.
	for _, e := range es {
		g1, err1 := r1.Get(ctx, e.Publisher, e.Kind, e.Key)
		g2, err2 := r2.Get(ctx, e.Publisher, e.Kind, e.Key)
		if err1 != nil || err2 != nil || !bytes.Equal(g1.Marshal(), g2.Marshal()) {
			t.Fatalf("replicas differ on %s: %v %v", e.Key, err1, err2)
		}
	}
}

// TestIndexMemory checks the budget: the in-memory index of 100,000
// records must be a small part of a 256 MB node. Entries carry placeholder
// signatures: the replica trusts its callers to have verified them.
func TestIndexMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds 100,000 entries; heap figures under -race mean nothing")
	}
	ctx := context.Background()
	ds := newDS()
	r := open(t, ds)
	const pubs, perPub = 300, 334
	sig := make([]byte, ed25519.SignatureSize)
	body := []byte(`{"id":"x","name":"placeholder"}`)
	for p := range pubs {
		pub := schema.PeerIDFromPublicKey(key(p).Public().(ed25519.PublicKey))
		batch := make([]*schema.Entry, 0, perPub)
		for s := range perPub {
			batch = append(batch, &schema.Entry{Publisher: pub, Seq: uint64(s + 1), Kind: schema.KindOffering,
				Key: fmt.Sprintf("offering-%06d", s), IssuedAt: t0, Body: body, Sig: sig})
		}
		if _, err := r.ApplyBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r2 := open(t, ds)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("index of %d records: %.1f MB", pubs*perPub, float64(heap)/1e6)
	if heap > 40<<20 {
		t.Fatalf("index of 100k records takes %d bytes", heap)
	}
	if r2.Digest() != r.Digest() {
		t.Fatal("reopened digest differs")
	}
	runtime.KeepAlive(r2)
}

func TestApplyBatchSameKeyTwice(t *testing.T) {
	ctx := context.Background()
	ds := newDS()
	r := open(t, ds)
	a := key(1)
	var olds []uint64
	r.OnChange(func(old, cur *schema.Entry) {
		if old == nil {
			olds = append(olds, 0)
		} else {
			olds = append(olds, old.Seq)
		}
	})
	n, err := r.ApplyBatch(ctx, []*schema.Entry{
		entry(t, a, 1, "x", false), entry(t, a, 3, "x", false), entry(t, a, 2, "x", false), entry(t, a, 4, "x", true),
	})
	if err != nil || n != 3 {
		t.Fatalf("ApplyBatch = %d, %v; want 3 applied", n, err)
	}
	if fmt.Sprint(olds) != "[0 1 3]" {
		t.Fatalf("OnChange olds = %v", olds)
	}
	// Only the current entry is stored; a reopened replica agrees.
	r2 := open(t, ds)
	if r2.Digest() != r.Digest() || r2.Publishers()[0].Live != 0 || r2.Marks()[r.Publishers()[0].Publisher] != 4 {
		t.Fatalf("reopen: %+v", r2.Publishers())
	}
	e, err := r2.Get(ctx, r.Publishers()[0].Publisher, schema.KindOffering, "x")
	if err != nil || e.Seq != 4 || !e.Tombstone {
		t.Fatalf("Get = %+v, %v", e, err)
	}
}
