package contacts

import (
	"context"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/node/store"
)

// refusal is a message refused for good, with the code the sender sees.
type refusal = outbox.Refusal

// HandleRemote answers one message from the node peer (authenticated by
// libp2p). A message is handled once per id; a repeated one is answered
// as delivered and changes nothing.
func (s *Service) HandleRemote(ctx context.Context, peer string, msg []byte) []byte {
	e, body, err := Decode(msg)
	return s.recv.Receive(ctx, peer, e.From, e.ID, err, func(*store.Tx) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.handle(ctx, peer, e, body)
	})
}

// refused audits a refused message (its sender and code, nothing of its
// content).
func (s *Service) refused(ctx context.Context, peer, code string) {
	_ = s.record(ctx, systemActor, audit.Denied, "contacts_message", "", "from "+peer+": "+code)
}

func (s *Service) handle(ctx context.Context, peer string, e Envelope, body any) error {
	switch e.Type {
	case MsgAsk:
		return s.gotAsk(ctx, peer, e.Contact, body.(*wireAsk))
	case MsgFamily:
		return s.gotFamily(ctx, peer, e.Contact, body.(*wireFamily))
	case MsgAsked:
		return s.gotAnswer(ctx, peer, e.Contact, StateAsked, nil)
	case MsgDecline:
		return s.gotAnswer(ctx, peer, e.Contact, StateDeclined, nil)
	case MsgAccept:
		w := body.(*wireAccept).Worker
		return s.gotAnswer(ctx, peer, e.Contact, StateAccepted, &w)
	}
	return refusal("bad_message")
}
