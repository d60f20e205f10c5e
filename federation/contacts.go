package federation

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/stream"
)

// ContactsProtocolID carries a family's request to meet a family
// assistant between exactly two nodes: the family's home node and the
// node of the coop that vouches for the worker (the ask, the coop's
// steps, the worker's answer and, only after an accept, both sides'
// contacts). One stream is one exchange, as on RequestsProtocolID; the
// payload is node/contacts' (docs/PROTOCOL.md, "Contacts"). Never gossiped.
const ContactsProtocolID protocol.ID = "/difronte/contacts/1"

// MaxContactsFrame bounds one contacts message: a short need, a message
// of 1,000 code points or one person's contacts, and the envelope.
const MaxContactsFrame = 16 << 10

var contactsExchange = stream.Exchange{Protocol: ContactsProtocolID, Name: "contacts",
	MaxRequest: MaxContactsFrame, MaxResponse: maxRequestsAnswer, Timeout: 30 * time.Second}

// Link sends and receives the one-message exchanges of an addressed
// stream protocol whose payload a domain defines (requests, contacts).
type Link struct {
	h    host.Host
	ex   stream.Exchange
	stop func()
}

// newLink serves ex on h; handle answers each message from the
// authenticated peer (it must not block for long).
func newLink(h host.Host, ex stream.Exchange, handle func(ctx context.Context, peer string, msg []byte) []byte) *Link {
	stop := ex.Serve(h, func(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
		return handle(ctx, from.String(), req), nil
	}, nil)
	return &Link{h: h, ex: ex, stop: stop}
}

// NewContactsLink serves ContactsProtocolID on h.
func NewContactsLink(h host.Host, handle func(ctx context.Context, peer string, msg []byte) []byte) *Link {
	return newLink(h, contactsExchange, handle)
}

// Send delivers one message to the node to and returns its answer.
func (l *Link) Send(ctx context.Context, to string, msg []byte) ([]byte, error) {
	p, err := peer.Decode(to)
	if err != nil {
		return nil, fmt.Errorf("%s peer %q: %w", l.ex.Name, to, err)
	}
	return l.ex.Call(ctx, l.h, p, msg)
}

// Connected reports whether the host holds a connection to the node to
// now (a Send to it would not have to dial).
func (l *Link) Connected(to string) bool {
	p, err := peer.Decode(to)
	return err == nil && l.h.Network().Connectedness(p) == network.Connected
}

// Close stops serving the protocol.
func (l *Link) Close() { l.stop() }
