package contacts

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/difronte/difronte/node/audit"
)

// refusal is a message refused for good, with the code the sender sees.
type refusal string

func (r refusal) Error() string { return string(r) }

// HandleRemote answers one message from the node peer (authenticated by
// libp2p). A message is handled once per id; a repeated one is answered
// as delivered and changes nothing.
func (s *Service) HandleRemote(ctx context.Context, peer string, msg []byte) []byte {
	e, body, err := Decode(msg)
	if err != nil {
		return s.refuse(ctx, peer, "bad_message")
	}
	if e.From != peer {
		return s.refuse(ctx, peer, "forged_sender")
	}
	_, err = s.seen.Handle(ctx, peer, e.ID, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.handle(ctx, peer, e, body)
	})
	var r refusal
	switch {
	case errors.As(err, &r):
		return s.refuse(ctx, peer, string(r))
	case err != nil:
		s.log.Error("cannot handle a contacts message", "peer", peer, "type", e.Type, "err", err)
		b, _ := json.Marshal(Answer{Refused: "try_later"})
		return b
	}
	b, _ := json.Marshal(Answer{OK: true})
	return b
}

// refuse audits a refused message (its sender and code, nothing of its
// content) and answers it.
func (s *Service) refuse(ctx context.Context, peer, code string) []byte {
	_ = s.record(ctx, systemActor, audit.Denied, "contacts_message", "", "from "+peer+": "+code)
	b, _ := json.Marshal(Answer{Refused: code})
	return b
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
