package catchup

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/schema"
)

// TestMarkAboveSentEntriesRefused: a responder that sends some entries of a
// publisher and then vouches for a mark above the last of them (one above,
// or far above) is refused, and nothing it sent is kept.
func TestMarkAboveSentEntriesRefused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	r := newNode(t, mn, nil, Options{})
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, r)
	linkAll(t, mn)

	pb := privKey(2)
	entry := func(seq uint64) []byte {
		e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, Key: fmt.Sprint("k", seq), IssuedAt: t0, Body: []byte(`{}`)}
		if err := e.Sign(pb); err != nil {
			t.Fatal(err)
		}
		return e.Marshal()
	}
	digest, marks := r.r.Digest(), fmt.Sprint(r.r.Marks())
	for _, mark := range []uint64{3, 100} {
		t.Run(fmt.Sprint("mark ", mark), func(t *testing.T) {
			fakeResponder(evil, func(w *bufio.Writer) {
				_ = writeFrame(w, fSection, []byte(pubID(pb)))
				_ = writeFrame(w, fEntry, entry(1))
				_ = writeFrame(w, fEntry, entry(2))
				_ = writeFrame(w, fSectionEnd, appendUvarint(nil, mark))
				_ = writeFrame(w, fDone, nil)
			})
			st, err := r.s.Sync(ctx, evil.ID())
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("mark %d of %s above the last seq sent 2", mark, pubID(pb))) {
				t.Fatalf("err = %v, want the mark %d refused (stats %+v)", err, mark, st)
			}
			if st.Applied != 0 || r.r.Digest() != digest || fmt.Sprint(r.r.Marks()) != marks {
				t.Fatalf("a refused session changed the replica: %+v", st)
			}
		})
	}
	// The same entries vouched for honestly are kept, with the mark at 2.
	fakeResponder(evil, func(w *bufio.Writer) {
		_ = writeFrame(w, fSection, []byte(pubID(pb)))
		_ = writeFrame(w, fEntry, entry(1))
		_ = writeFrame(w, fEntry, entry(2))
		_ = writeFrame(w, fSectionEnd, appendUvarint(nil, 2))
		_ = writeFrame(w, fDone, nil)
	})
	if st, err := r.s.Sync(ctx, evil.ID()); err != nil || st.Applied != 2 || r.r.Marks()[pubID(pb)] != 2 {
		t.Fatalf("honest session: %+v %v, mark %d", st, err, r.r.Marks()[pubID(pb)])
	}
	evil.RemoveStreamHandler(ProtocolID)
}

// TestNoVouchPastSkippedEntry: a responder that holds an entry it must not
// send (stored by an earlier version, its body not strict) sends the
// entries around it but vouches only for the mark below it, so that a
// requester resuming from the vouched mark never passes over it.
func TestNoVouchPastSkippedEntry(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	resp := newNode(t, mn, nil, Options{})
	asker, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, resp)
	linkAll(t, mn)
	pb := privKey(3)
	for i, body := range []string{`{"n":1}`, `{"n":1,"n":2}`, `{"n":3}`} {
		// Signed by hand as docs/PROTOCOL.md section 2.1 says: Sign
		// refuses a body that is not strict, as this version does.
		e := &schema.Entry{Publisher: pubID(pb), Seq: uint64(i + 1), Kind: schema.KindOffering, Key: fmt.Sprint("k", i), IssuedAt: t0, Body: []byte(body)}
		e.Sig = ed25519.Sign(pb, append([]byte("difronte/entry/v1"), e.Marshal()...))
		if err := e.Verify(); err != nil {
			t.Fatal(err)
		}
		if _, err := resp.r.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if m := resp.r.Marks()[pubID(pb)]; m != 3 {
		t.Fatalf("the responder's mark is %d, want 3", m)
	}
	st, err := asker.NewStream(ctx, resp.h.ID(), ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(5 * time.Second))
	w := bufio.NewWriter(st)
	_ = writeFrame(w, fHello, hello{version: protocolVersion, budget: 100}.append(nil))
	_ = writeFrame(w, fMarksEnd, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fr := newFrameReader(st)
	var seqs []uint64
	vouched := uint64(99)
	for range 20 {
		typ, payload, err := fr.next(MaxFrame)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		if typ == fDone {
			break
		}
		switch typ {
		case fEntry:
			e, err := schema.UnmarshalEntryAnyKindUnverified(payload)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, e.Seq)
		case fSectionEnd:
			if vouched, err = parseUvarintPayload(payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(seqs) != "[1 3]" || vouched != 1 {
		t.Fatalf("sent seqs %v and vouched for %d; want [1 3] and 1 (below the skipped seq 2)", seqs, vouched)
	}
}

// TestEntryBudgetHolds: a requester that asked for at most 2 entries ends
// the session on a third and keeps none of them.
func TestEntryBudgetHolds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	r := newNode(t, mn, nil, Options{MaxEntriesPerSession: 2})
	evil, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, r)
	linkAll(t, mn)
	pb := privKey(4)
	entry := func(seq uint64) []byte {
		e := &schema.Entry{Seq: seq, Kind: schema.KindOffering, Key: fmt.Sprint("k", seq), IssuedAt: t0, Body: []byte(`{}`)}
		if err := e.Sign(pb); err != nil {
			t.Fatal(err)
		}
		return e.Marshal()
	}
	send := func(n uint64) {
		fakeResponder(evil, func(w *bufio.Writer) {
			_ = writeFrame(w, fSection, []byte(pubID(pb)))
			for s := uint64(1); s <= n; s++ {
				_ = writeFrame(w, fEntry, entry(s))
			}
			_ = writeFrame(w, fSectionEnd, appendUvarint(nil, n))
			_ = writeFrame(w, fDone, nil)
		})
	}
	send(3)
	if st, err := r.s.Sync(ctx, evil.ID()); err == nil || !strings.Contains(err.Error(), "more entries than the budget of 2") || len(r.r.Publishers()) != 0 {
		t.Fatalf("3 entries for a budget of 2: %+v, %v, %d publishers held", st, err, len(r.r.Publishers()))
	}
	send(2)
	if st, err := r.s.Sync(ctx, evil.ID()); err != nil || st.Applied != 2 || !st.Truncated {
		t.Fatalf("2 entries for a budget of 2: %+v, %v", st, err)
	}
	evil.RemoveStreamHandler(ProtocolID)
}
