package federation

import (
	"bytes"
	"context"
	"testing"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"
)

func TestOutcomeLinkExchange(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mn, err := mocknet.FullMeshLinked(2)
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	a, b := mn.Hosts()[0], mn.Hosts()[1]
	var from string
	lb := NewOutcomeLink(b, func(_ context.Context, peer string, req []byte) []byte {
		from = peer
		return append([]byte("ok:"), req...)
	})
	defer lb.Close()
	la := NewOutcomeLink(a, func(context.Context, string, []byte) []byte { return nil })
	defer la.Close()
	resp, err := la.Send(context.Background(), b.ID().String(), []byte(`{"x":1}`))
	if err != nil || !bytes.Equal(resp, []byte(`ok:{"x":1}`)) || from != a.ID().String() {
		t.Fatalf("resp %q err %v from %s", resp, err, from)
	}
	if _, err := la.Send(context.Background(), b.ID().String(), make([]byte, MaxOutcomeFrame+1)); err == nil {
		t.Fatal("oversized request sent")
	}
	if _, err := la.Send(context.Background(), "not-a-peer", nil); err == nil {
		t.Fatal("bad peer id accepted")
	}
}
