package federation

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/stream"
)

type echoApply struct{ from chan peer.ID }

func (e echoApply) HandleApply(_ context.Context, from peer.ID, req ApplyRequest) ApplyResponse {
	e.from <- from
	if req.Op != ApplySubmit || req.Form == nil {
		return ApplyResponse{Error: "unknown operation"}
	}
	return ApplyResponse{Applications: []ApplicationState{{ID: req.Form.ID, State: "submitted"}}}
}

func TestApplyProtocol(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mn, err := mocknet.FullMeshConnected(2)
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	hs := mn.Hosts()
	h := echoApply{from: make(chan peer.ID, 4)}
	stop := ServeApply(hs[1], h)
	defer stop()
	ctx := context.Background()

	form := &ApplicationForm{ID: "a1", Description: "x", Attachments: []Attachment{{Name: "a.pdf", Type: "application/pdf", Data: bytes.Repeat([]byte{1}, MaxAttachmentSize)}}}
	resp, err := SendApply(ctx, hs[0], hs[1].ID(), ApplyRequest{Op: ApplySubmit, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Applications) != 1 || resp.Applications[0].State != "submitted" {
		t.Fatalf("answer %+v", resp)
	}
	if got := <-h.from; got != hs[0].ID() {
		t.Fatalf("handler saw %s, want the authenticated sender %s", got, hs[0].ID())
	}
	_, err = SendApply(ctx, hs[0], hs[1].ID(), ApplyRequest{Op: "delete-everything"})
	if !errors.Is(err, ErrApplyRefused) || !strings.Contains(err.Error(), "unknown operation") {
		t.Fatalf("refusal: %v", err)
	}
	<-h.from
	// An oversized frame is refused before the handler sees it.
	big := &ApplicationForm{ID: "a2"}
	for range MaxAttachments + 2 {
		big.Attachments = append(big.Attachments, Attachment{Name: "x.png", Data: make([]byte, MaxAttachmentSize)})
	}
	_, err = SendApply(ctx, hs[0], hs[1].ID(), ApplyRequest{Op: ApplySubmit, Form: big})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized frame: %v", err)
	}
	select {
	case <-h.from:
		t.Fatal("handler saw an oversized frame")
	default:
	}
}

func FuzzApplyFrame(f *testing.F) {
	var b bytes.Buffer
	req, _ := stream.MarshalJSON(ApplyRequest{Op: ApplySubmit, Form: &ApplicationForm{ID: "x"}}, MaxApplyFrame)
	_ = stream.WriteFrame(&b, req, MaxApplyFrame)
	f.Add(b.Bytes())
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<31))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req ApplyRequest
		if b, err := stream.ReadFrame(bytes.NewReader(data), 1<<16); err == nil {
			_ = stream.UnmarshalJSON(b, 1<<16, &req)
		}
	})
}
