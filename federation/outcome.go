package federation

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// OutcomeProtocolID carries check-in outcomes from a caregiver's node to the
// node that owns the beneficiary: the call went over the signal protocol,
// the outcome follows on the same authorised path, so the case lives where
// the person's record lives. One stream is one exchange: one request frame,
// one response frame. The payload is opaque here; node/escalation defines it
// and enforces the call grant on every request.
const OutcomeProtocolID protocol.ID = "/difronte/outcome/1"

// MaxOutcomeFrame bounds one outcome request or answer: a note of 2,000
// characters and a few fields.
const MaxOutcomeFrame = 16 << 10

const outcomeDeadline = 20 * time.Second

// OutcomeLink sends and receives outcome exchanges.
type OutcomeLink struct {
	h      host.Host
	handle func(ctx context.Context, peer string, req []byte) []byte
}

// NewOutcomeLink serves the outcome protocol on h; handle answers each
// request (it must not block for long).
func NewOutcomeLink(h host.Host, handle func(ctx context.Context, peer string, req []byte) []byte) *OutcomeLink {
	l := &OutcomeLink{h: h, handle: handle}
	h.SetStreamHandler(OutcomeProtocolID, l.accept)
	return l
}

func (l *OutcomeLink) accept(st network.Stream) {
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(outcomeDeadline))
	req, err := ReadFrame(st, MaxOutcomeFrame)
	if err != nil {
		_ = st.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), outcomeDeadline)
	defer cancel()
	resp := l.handle(ctx, st.Conn().RemotePeer().String(), req)
	if err := WriteFrame(st, resp); err != nil {
		_ = st.Reset()
	}
}

// Send delivers one request to the node to and returns its answer.
func (l *OutcomeLink) Send(ctx context.Context, to string, req []byte) ([]byte, error) {
	if len(req) > MaxOutcomeFrame {
		return nil, fmt.Errorf("outcome request: %w", ErrFrameTooLarge)
	}
	p, err := peer.Decode(to)
	if err != nil {
		return nil, fmt.Errorf("outcome peer %q: %w", to, err)
	}
	ctx, cancel := context.WithTimeout(ctx, outcomeDeadline)
	defer cancel()
	st, err := l.h.NewStream(ctx, p, OutcomeProtocolID)
	if err != nil {
		return nil, fmt.Errorf("open outcome stream to %s: %w", p, err)
	}
	defer st.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	if err := WriteFrame(st, req); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("write outcome to %s: %w", p, err)
	}
	_ = st.CloseWrite()
	resp, err := ReadFrame(st, MaxOutcomeFrame)
	if err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("read outcome answer from %s: %w", p, err)
	}
	return resp, nil
}

// Close stops serving the protocol.
func (l *OutcomeLink) Close() { l.h.RemoveStreamHandler(OutcomeProtocolID) }
