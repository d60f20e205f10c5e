package federation

import (
	"context"
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// applyQueue is how many accepted entries may wait for the early applier;
// beyond it an entry is applied by the subscription loop after delivery.
const applyQueue = subBuffer

// earlyApplier applies entries the validator has accepted, before pubsub
// delivers or forwards them: a node's own delivery (the entry in its
// replica, visible to its users) does not wait for the relay hold
// (topics.Tuning.RelayDelay), which only paces the forward to the mesh.
// Entries are applied in batches, as the subscription loop applies them,
// so a burst costs one datastore commit per batch, not one per entry.
//
// The subscription loop (receive) applies every delivered entry again;
// applying the same signed entry twice is a no-op in the replica (its
// check finds it held), so that second application changes nothing and
// notifies no listener. It is what applies an entry the queue had no
// room for.
type earlyApplier struct {
	rep *replica.Replica
	log *slog.Logger
	in  chan *schema.Entry
}

func newEarlyApplier(rep *replica.Replica, log *slog.Logger) *earlyApplier {
	return &earlyApplier{rep: rep, log: log, in: make(chan *schema.Entry, applyQueue)}
}

// offer queues e for applying without blocking; false if the queue is full.
func (a *earlyApplier) offer(e *schema.Entry) bool {
	select {
	case a.in <- e:
		return true
	default:
		return false
	}
}

// run applies queued entries until ctx ends, whatever is queued as one
// batch of at most applyBatch.
func (a *earlyApplier) run(ctx context.Context) {
	batch := make([]*schema.Entry, 0, applyBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-a.in:
			batch = append(batch, e)
		}
	more:
		for len(batch) < applyBatch {
			select {
			case e := <-a.in:
				batch = append(batch, e)
			default:
				break more
			}
		}
		if _, err := a.rep.ApplyBatch(ctx, batch); err != nil && ctx.Err() == nil {
			a.log.Warn("apply gossip entries failed", "entries", len(batch), "err", err)
		}
		clear(batch)
		batch = batch[:0]
	}
}

// relay wraps the topic validator: an accepted entry from another node is
// handed to apply at once, then its return to pubsub (which delivers it
// and forwards it to the mesh) is held back hold. Meanwhile pubsub has
// already told its mesh peers IDONTWANT (it does so when the message
// arrives, before validation), and the mesh peers that got the same entry
// by another path tell us the same: the held forward then skips them. The
// node's own delivery is not delayed by the hold, only its forward.
type relay struct {
	v    pubsub.ValidatorEx
	self peer.ID
	// apply takes an accepted entry of another node (nil: none).
	apply func(*schema.Entry) bool
	hold  time.Duration
	// relayedHold is the hold of entries relayed by others, not received
	// straight from their publisher (its flood).
	relayedHold time.Duration
	// holds, when set, scales both holds by the node's recent duplicates
	// (topics.Tuning.AdaptiveHold).
	holds *holdGauge
	// unlinked, when set, reports whether a mesh peer of the topic other
	// than from said it is not linked to the publisher pub: an entry
	// straight from its publisher is then forwarded without a hold
	// (topics.Tuning.ForwardUnlinked, links.go).
	unlinked func(topic string, from, pub peer.ID) bool
	// sleep waits d or until ctx ends (nil: a real timer). The hold is
	// real time on purpose: it paces the network, whatever clock the
	// node's schedules run on.
	sleep func(ctx context.Context, d time.Duration)
}

func (r relay) validate(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	res := r.v(ctx, from, msg)
	if res != pubsub.ValidationAccept || from == r.self {
		// Refused, or our own publish: nothing to apply, nothing to pace
		// (a publish is validated inline, so holding it would delay it).
		return res
	}
	if e, ok := msg.ValidatorData.(*schema.Entry); ok && r.apply != nil {
		r.apply(e)
	}
	hold := r.hold
	switch {
	case msg.GetFrom() != from:
		hold = r.relayedHold
	case hold > 0 && r.unlinked != nil && r.unlinked(msg.GetTopic(), from, msg.GetFrom()):
		hold = 0 // a mesh peer waits for our forward: the flood missed it
	}
	if r.holds != nil {
		hold = r.holds.first(hold)
	}
	if hold > 0 {
		sleep := r.sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		sleep(ctx, hold)
	}
	return res
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
