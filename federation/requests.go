package federation

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/stream"
)

// RequestsProtocolID carries citizens' service requests and what follows
// them between exactly two nodes: the citizen's home node and the
// provider's node (requests, offers, declines, acceptances, case changes,
// messages, receipts, payments). One stream is one exchange: one message
// frame, one answer frame. The payload is opaque here; node/requests
// defines it (docs/PROTOCOL.md, "Requests"). Never gossiped.
const RequestsProtocolID protocol.ID = "/difronte/requests/1"

// MaxRequestsFrame bounds one message: an attachment of 2 MiB in base64
// and its envelope.
const MaxRequestsFrame = 3 << 20

// maxRequestsAnswer bounds the answer: a status and a reason.
const maxRequestsAnswer = 1 << 10

var requestsExchange = stream.Exchange{Protocol: RequestsProtocolID, Name: "requests",
	MaxRequest: MaxRequestsFrame, MaxResponse: maxRequestsAnswer, Timeout: 30 * time.Second}

// RequestsLink sends and receives request-protocol exchanges.
type RequestsLink = Link

// NewRequestsLink serves the protocol on h; handle answers each message
// from the authenticated peer (it must not block for long).
func NewRequestsLink(h host.Host, handle func(ctx context.Context, peer string, msg []byte) []byte) *RequestsLink {
	return newLink(h, requestsExchange, handle)
}
