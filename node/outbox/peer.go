package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/difronte/difronte/node/store"
)

// The two ends of an addressed stream protocol whose messages go through
// an outbox (node/requests, node/contacts): the sender's delivery
// (Deliver) and the receiver's answer (Receiver), with the answer's wire
// form, in one place.

// Answer is the receiver's answer to one message: delivered, or refused
// with a code ("try_later": not now, the sender retries).
type Answer struct {
	OK      bool   `json:"ok"`
	Refused string `json:"refused,omitempty"`
}

// TryLater is the refusal that asks the sender to retry.
const TryLater = "try_later"

// Err is the outbox's view of a: nil when delivered, ErrRefused (the
// message is dropped) when refused for good.
func (a Answer) Err() error {
	if a.OK {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrRefused, a.Refused)
}

func (a Answer) bytes() []byte {
	b, _ := json.Marshal(a)
	return b
}

// Carrier sends one message to a node and returns its answer.
type Carrier interface {
	Send(ctx context.Context, to string, msg []byte) ([]byte, error)
}

// Deliver sends payload to the node to and reads its answer: over c, or
// to local when to is self (the node is its own destination). An error
// means "try again later" (no link, the transport failed, an answer that
// does not decode, or TryLater); a refusal for good comes back as an
// Answer that is not OK.
func Deliver(ctx context.Context, self, to string, payload []byte, c Carrier, local func(ctx context.Context, peer string, msg []byte) []byte) (Answer, error) {
	var ans []byte
	if to == self {
		ans = local(ctx, self, payload)
	} else {
		if c == nil {
			return Answer{}, errors.New("no link to other nodes")
		}
		var err error
		if ans, err = c.Send(ctx, to, payload); err != nil {
			return Answer{}, err
		}
	}
	var a Answer
	if err := json.Unmarshal(ans, &a); err != nil {
		return Answer{}, fmt.Errorf("answer of %s: %w", to, err)
	}
	if !a.OK && a.Refused == TryLater {
		return Answer{}, fmt.Errorf("%s cannot handle the message now", to)
	}
	return a, nil
}

// Refusal is a message refused for good, with the code its sender sees.
type Refusal string

func (r Refusal) Error() string { return string(r) }

// Receiver answers the messages of one protocol: each handled once per
// sender and id (Seen), its effects and "handled" durable in one write.
type Receiver struct {
	Seen *Seen
	Root store.Namespace // the transactions' root: the Seen's store is in it
	// Refused audits a refusal: its sender and code, nothing of the
	// message.
	Refused func(ctx context.Context, peer, code string)
	Log     *slog.Logger
	What    string // names the protocol's messages in logs
}

// Receive answers one message from the authenticated node peer, whose
// envelope said it comes from from with id (decodeErr: it did not
// decode). fn applies it within tx; a Refusal it returns is answered as
// such, any other error as TryLater. A message handled before is
// answered as delivered and changes nothing.
func (r Receiver) Receive(ctx context.Context, peer, from, id string, decodeErr error, fn func(tx *store.Tx) error) []byte {
	if decodeErr != nil {
		return r.refuse(ctx, peer, "bad_message")
	}
	if from != peer {
		return r.refuse(ctx, peer, "forged_sender")
	}
	_, err := r.Seen.HandleTx(ctx, r.Root, peer, id, fn)
	var no Refusal
	switch {
	case errors.As(err, &no):
		return r.refuse(ctx, peer, string(no))
	case err != nil:
		r.Log.Error("cannot handle a "+r.What, "peer", peer, "err", err)
		return Answer{Refused: TryLater}.bytes() // not a refusal the sender drops
	}
	return Answer{OK: true}.bytes()
}

func (r Receiver) refuse(ctx context.Context, peer, code string) []byte {
	if r.Refused != nil {
		r.Refused(ctx, peer, code)
	}
	return Answer{Refused: code}.bytes()
}

// DecodeStrict decodes b into v: one JSON value, no unknown member,
// nothing after it.
func DecodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the message")
	}
	return nil
}
