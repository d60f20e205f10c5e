package catchup

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"testing"

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
