package federation

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/stream"
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

var outcomeExchange = stream.Exchange{Protocol: OutcomeProtocolID, Name: "outcome",
	MaxRequest: MaxOutcomeFrame, MaxResponse: MaxOutcomeFrame, Timeout: 20 * time.Second}

// OutcomeLink sends and receives outcome exchanges.
type OutcomeLink struct {
	h    host.Host
	stop func()
}

// NewOutcomeLink serves the outcome protocol on h; handle answers each
// request (it must not block for long). A request that cannot be read
// resets its stream.
func NewOutcomeLink(h host.Host, handle func(ctx context.Context, peer string, req []byte) []byte) *OutcomeLink {
	stop := outcomeExchange.Serve(h, func(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
		return handle(ctx, from.String(), req), nil
	}, nil)
	return &OutcomeLink{h: h, stop: stop}
}

// Send delivers one request to the node to and returns its answer.
func (l *OutcomeLink) Send(ctx context.Context, to string, req []byte) ([]byte, error) {
	p, err := peer.Decode(to)
	if err != nil {
		return nil, fmt.Errorf("outcome peer %q: %w", to, err)
	}
	return outcomeExchange.Call(ctx, l.h, p, req)
}

// Close stops serving the protocol.
func (l *OutcomeLink) Close() { l.stop() }
