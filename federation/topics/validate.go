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
	return ValidatorObserved(topic, self, check, log, clk, nil)
}

// ValidatorObserved is Validator that also tells observe, when set, every
// verdict and its Reason (for metrics; it must not block).
func ValidatorObserved(topic string, self peer.ID, check Checker, log *slog.Logger, clk clock.Clock, observe func(topic string, res pubsub.ValidationResult, why Reason)) pubsub.ValidatorEx {
	clk = clock.Or(clk)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		res, e, code, why := decide(topic, self, check, from, msg, clk.Now())
		if observe != nil {
			observe(topic, res, code)
		}
		if res != pubsub.ValidationAccept {
			log.Debug("gossip message refused", "topic", topic, "from", from, "verdict", res, "reason", why)
			return res
		}
		msg.ValidatorData = e
		return res
	}
}

// Reason classifies a verdict. The set is fixed (Reasons): a metric label.
type Reason string

// The reasons: Accepted, then those of Reject, then those of Ignore.
const (
	Accepted  Reason = "accepted"
	Malformed Reason = "malformed"    // not a well-formed entry
	TooLarge  Reason = "too_large"    // over schema.MaxEntrySize
	Signature Reason = "signature"    // the entry's signature does not verify
	Kind      Reason = "unknown_kind" // a kind this version does not know
	Strict    Reason = "strict_body"  // the body is not strict JSON (schema.CheckJSON)
	Author    Reason = "author"       // the pubsub author is not the entry's publisher
	Topic     Reason = "topic"        // the kind belongs to another topic
	Body      Reason = "body"         // the body breaks its kind's rules
	Future    Reason = "future"       // issued beyond schema.MaxClockSkew
	Echo      Reason = "own_echo"     // our own entry coming back
	Stale     Reason = "stale"        // older than what the replica holds
	Duplicate Reason = "duplicate"    // already held
	Local     Reason = "local"        // the replica could not say
)

// Reasons returns every Reason.
func Reasons() []Reason {
	return []Reason{Accepted, Malformed, TooLarge, Signature, Kind, Strict, Author, Topic, Body, Future, Echo, Stale, Duplicate, Local}
}

// decodeReason classifies an error of schema.UnmarshalEntry.
func decodeReason(err error) Reason {
	switch {
	case errors.Is(err, schema.ErrTooLarge):
		return TooLarge
	case errors.Is(err, schema.ErrBadSignature):
		return Signature
	case errors.Is(err, schema.ErrUnknownKind):
		return Kind
	case errors.Is(err, schema.ErrBody):
		return Strict
	}
	return Malformed
}

// verdict is decide without the Reason, as the tests read it.
func verdict(topic string, self peer.ID, check Checker, from peer.ID, msg *pubsub.Message, now time.Time) (pubsub.ValidationResult, *schema.Entry, string) {
	res, e, _, why := decide(topic, self, check, from, msg, now)
	return res, e, why
}

// decide is the pure decision of Validator, with its Reason and the
// detail for the log.
func decide(topic string, self peer.ID, check Checker, from peer.ID, msg *pubsub.Message, now time.Time) (pubsub.ValidationResult, *schema.Entry, Reason, string) {
	// Size, canonical form, known kind, key and tombstone rules, bounds,
	// strict JSON body, signature.
	e, err := schema.UnmarshalEntry(msg.GetData())
	if err != nil {
		return pubsub.ValidationReject, nil, decodeReason(err), err.Error()
	}
	// The pubsub author is authenticated by the message signature (strict
	// signing), and a node's libp2p identity is its entry key: only the
	// publisher itself may originate its entries on gossip. Relaying other
	// publishers' entries is catch-up's job, which verifies them too.
	author := msg.GetFrom()
	if len(author) == 0 || peer.ID(author).String() != e.Publisher {
		return pubsub.ValidationReject, nil, Author, "pubsub author is not the entry publisher"
	}
	if !Carries(topic, e.Kind) {
		return pubsub.ValidationReject, nil, Topic, "kind does not belong to topic"
	}
	if !e.Tombstone {
		if err := schema.ValidateBody(e.Kind, e.Key, e.Body); err != nil {
			return pubsub.ValidationReject, nil, Body, err.Error()
		}
	}
	if err := schema.CheckIssuedAt(e, now); err != nil {
		return pubsub.ValidationIgnore, nil, Future, err.Error()
	}
	if e.Publisher == self.String() {
		if from == self {
			// Our own publish: already appended to the replica, which would
			// call it a duplicate; it must pass to be sent at all.
			return pubsub.ValidationAccept, e, Accepted, ""
		}
		// Our own entry coming back after the seen-cache forgot it: we
		// hold it already (or a newer one); never apply it from outside.
		return pubsub.ValidationIgnore, nil, Echo, "own entry echoed back"
	}
	if err := check.Check(e); err != nil {
		switch {
		case errors.Is(err, replica.ErrStale):
			return pubsub.ValidationIgnore, nil, Stale, err.Error()
		case errors.Is(err, replica.ErrDuplicate):
			return pubsub.ValidationIgnore, nil, Duplicate, err.Error()
		}
		// Anything else is a local failure, not the sender's fault.
		return pubsub.ValidationIgnore, nil, Local, err.Error()
	}
	return pubsub.ValidationAccept, e, Accepted, ""
}
