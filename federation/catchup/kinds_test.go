package catchup

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"testing"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// TestNewerKindsAreStoredAndRelayed is a federation in the middle of an
// upgrade: a newer node holds, between two offerings of a publisher, an
// entry of a kind this version does not know. This version's node catches
// up through it (instead of ending the session there for good), holds the
// same state and digest, keeps the offerings, and relays the unknown entry
// to a third node, so that the marks it vouches for stay true.
func TestNewerKindsAreStoredAndRelayed(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	newer := newNode(t, mn, nil, Options{})
	// A body validator that knows offerings only, as this version's does:
	// the newer kind's body must never reach it.
	older := newNode(t, mn, nil, Options{ValidateBody: func(k schema.Kind, key string, body []byte) error {
		if k != schema.KindOffering {
			return fmt.Errorf("validator asked about kind %q", k)
		}
		return jsonOnly(k, key, body)
	}})
	third := newNode(t, mn, nil, Options{})
	defer closeAll(t, mn, newer, older, third)
	linkAll(t, mn)

	p := privKey(7)
	offering := func(seq uint64, k string) *schema.Entry {
		e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, Key: k, IssuedAt: t0, Body: fmt.Appendf(nil, `{"id":%q}`, k)}
		if err := e.Sign(p); err != nil {
			t.Fatal(err)
		}
		return e
	}
	future := &schema.Entry{Seq: 2, Kind: "care-plan.v2", Key: "piano-1", IssuedAt: t0, Body: []byte(`{"not":"an offering"}`)}
	if err := future.SignAnyKind(p); err != nil {
		t.Fatal(err)
	}
	if _, err := newer.r.ApplyBatch(ctx, []*schema.Entry{offering(1, "a"), future, offering(3, "b")}); err != nil {
		t.Fatal(err)
	}
	if err := newer.r.RaiseMark(ctx, pubID(p), 3); err != nil {
		t.Fatal(err)
	}

	st, err := older.s.Sync(ctx, newer.h.ID())
	if err != nil || st.Entries != 3 || st.Foreign != 1 || st.Applied != 3 {
		t.Fatalf("sync across a newer kind: %+v, %v; want 3 entries, 1 foreign, 3 applied", st, err)
	}
	if older.r.Digest() != newer.r.Digest() || older.r.Marks()[pubID(p)] != 3 {
		t.Fatalf("older node: digest equal %v, mark %d; want the newer node's state, mark 3",
			older.r.Digest() == newer.r.Digest(), older.r.Marks()[pubID(p)])
	}
	live := 0
	if err := older.r.Current(ctx, schema.KindOffering, func(*schema.Entry) error { live++; return nil }); err != nil || live != 2 {
		t.Fatalf("older node's offerings: %d, %v; want 2", live, err)
	}
	got, err := older.r.Get(ctx, pubID(p), "care-plan.v2", "piano-1")
	if err != nil || string(got.Marshal()) != string(future.Marshal()) {
		t.Fatalf("older node does not hold the newer entry verbatim: %v", err)
	}

	st, err = third.s.Sync(ctx, older.h.ID())
	if err != nil || st.Entries != 3 || third.r.Digest() != newer.r.Digest() {
		t.Fatalf("relay through the older node: %+v, %v; want all 3 entries and the same state", st, err)
	}
	// In sync now: one round trip, whichever versions.
	if st, err := older.s.Sync(ctx, newer.h.ID()); err != nil || st.RoundTrips != 1 {
		t.Fatalf("second sync: %+v, %v; want one round trip", st, err)
	}
}

// TestInventedKindsAreBounded: a responder that makes a publisher's log
// carry more distinct kinds than a replica holds ends the session before
// anything of that section is stored; a malformed kind is refused as such.
func TestInventedKindsAreBounded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	r := newNode(t, mn, nil, Options{SessionTimeout: 5e9})
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, r)
	linkAll(t, mn)
	p := privKey(8)
	digest := r.r.Digest()
	fakeResponder(evil, func(w *bufio.Writer) {
		_ = writeFrame(w, fSection, []byte(pubID(p)))
		for i := range replica.MaxKinds + 5 {
			e := &schema.Entry{Seq: uint64(i + 1), Kind: schema.Kind(fmt.Sprintf("kind-%d", i)), Key: "k", IssuedAt: t0, Body: []byte(`{}`)}
			if err := e.SignAnyKind(p); err != nil {
				panic(err)
			}
			_ = writeFrame(w, fEntry, e.Marshal())
		}
	})
	st, err := r.s.Sync(ctx, evil.ID())
	if err == nil || !strings.Contains(err.Error(), "too many record kinds") {
		t.Fatalf("err = %v, want too many record kinds (stats %+v)", err, st)
	}
	if st.Applied != 0 || r.r.Digest() != digest || r.r.Marks()[pubID(p)] != 0 {
		t.Fatalf("invented kinds changed the replica: %+v", st)
	}
	evil.RemoveStreamHandler(ProtocolID)
}
