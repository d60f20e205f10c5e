package topics

import (
	"github.com/difronte/difronte/federation/clock"

	"context"
	"errors"
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// Checker is the part of the replica the validator needs: an in-memory
// verdict on whether an entry would change our state.
type Checker interface {
	Check(e *schema.Entry) error
}

// Validator builds the gossipsub validator for topic. Self is the local
// peer; check is usually the replica. The accepted entry is handed on in
// msg.ValidatorData so the receiver does not decode it twice.
//
// The verdicts follow gossipsub v1.1 semantics: Reject is for what no
// honest node would ever send (it costs the forwarder score, P4), Ignore is
// for what an honest node may send in good faith (an entry we already hold,
// an older one that was overtaken by a newer while in flight) and is
// neither delivered nor forwarded, without penalty.
//
// clk is the clock an entry's issued_at is compared with (nil: the real
// one): an entry issued more than schema.MaxClockSkew after now is ignored
// (not forwarded, no penalty: the publisher's clock is at fault, not the
// forwarder) and arrives by catch-up once it is due.
func Validator(topic string, self peer.ID, check Checker, log *slog.Logger, clk clock.Clock) pubsub.ValidatorEx {
	clk = clock.Or(clk)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		res, e, why := verdict(topic, self, check, from, msg, clk.Now())
		if res != pubsub.ValidationAccept {
			log.Debug("gossip message refused", "topic", topic, "from", from, "verdict", res, "reason", why)
			return res
		}
		msg.ValidatorData = e
		return res
	}
}

// verdict is the pure decision of Validator, with the reason for the log.
func verdict(topic string, self peer.ID, check Checker, from peer.ID, msg *pubsub.Message, now time.Time) (pubsub.ValidationResult, *schema.Entry, string) {
	// Size, canonical form, known kind, key and tombstone rules, bounds,
	// strict JSON body, signature.
	e, err := schema.UnmarshalEntry(msg.GetData())
	if err != nil {
		return pubsub.ValidationReject, nil, err.Error()
	}
	// The pubsub author is authenticated by the message signature (strict
	// signing), and a node's libp2p identity is its entry key: only the
	// publisher itself may originate its entries on gossip. Relaying other
	// publishers' entries is catch-up's job, which verifies them too.
	author := msg.GetFrom()
	if len(author) == 0 || peer.ID(author).String() != e.Publisher {
		return pubsub.ValidationReject, nil, "pubsub author is not the entry publisher"
	}
	if !Carries(topic, e.Kind) {
		return pubsub.ValidationReject, nil, "kind does not belong to topic"
	}
	if !e.Tombstone {
		if err := schema.ValidateBody(e.Kind, e.Key, e.Body); err != nil {
			return pubsub.ValidationReject, nil, err.Error()
		}
	}
	if err := schema.CheckIssuedAt(e, now); err != nil {
		return pubsub.ValidationIgnore, nil, err.Error()
	}
	if e.Publisher == self.String() {
		if from == self {
			// Our own publish: already appended to the replica, which would
			// call it a duplicate; it must pass to be sent at all.
			return pubsub.ValidationAccept, e, ""
		}
		// Our own entry coming back after the seen-cache forgot it: we
		// hold it already (or a newer one); never apply it from outside.
		return pubsub.ValidationIgnore, nil, "own entry echoed back"
	}
	if err := check.Check(e); err != nil {
		if errors.Is(err, replica.ErrStale) || errors.Is(err, replica.ErrDuplicate) {
			return pubsub.ValidationIgnore, nil, err.Error()
		}
		// Anything else is a local failure, not the sender's fault.
		return pubsub.ValidationIgnore, nil, err.Error()
	}
	return pubsub.ValidationAccept, e, ""
}
