package federation

import (
	"context"
	"encoding/json"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
)

// Publish appends a record to the node's own log and publishes it on its
// kind's topic. The record is durable in the replica before it is sent; if
// gossip fails to deliver it, catch-up will.
func (f *Federation) Publish(ctx context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error) {
	if err := schema.ValidateBody(kind, key, body); err != nil {
		return nil, fmt.Errorf("publish %s %q: %w", kind, key, err)
	}
	return f.append(ctx, kind, key, body, false)
}

// Withdraw appends a tombstone for a record and publishes it.
func (f *Federation) Withdraw(ctx context.Context, kind schema.Kind, key string) (*schema.Entry, error) {
	return f.append(ctx, kind, key, nil, true)
}

func (f *Federation) append(ctx context.Context, kind schema.Kind, key string, body []byte, tombstone bool) (*schema.Entry, error) {
	if err := f.ready(); err != nil {
		return nil, err
	}
	name, ok := topics.ForKind(kind)
	if !ok {
		return nil, fmt.Errorf("publish %s %q: %w", kind, key, schema.ErrUnknownKind)
	}
	e, err := f.rep.Append(ctx, f.cfg.Key, kind, key, body, tombstone, f.cfg.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("append %s %q: %w", kind, key, err)
	}
	f.kickCheckpoint()
	if err := f.send(ctx, f.topics[name], e.Marshal()); err != nil {
		// Stored but not sent: peers get it by catch-up. The caller
		// still learns it, since the record is not yet spread.
		return e, fmt.Errorf("publish %s %q on %s: %w", kind, key, name, err)
	}
	return e, nil
}

// send publishes data on t. A message published before the topic has
// peers is lost (the mesh forms on the next heartbeat), so when the node
// has connections it first waits, up to PublishWait, for one topic peer.
// A lone node publishes at once: nobody is listening, and catch-up will
// serve the record to whoever connects.
func (f *Federation) send(ctx context.Context, t *pubsub.Topic, data []byte) error {
	if len(t.ListPeers()) == 0 && len(f.host.Network().Peers()) > 0 {
		wctx, cancel := context.WithTimeout(ctx, f.cfg.PublishWait)
		err := t.Publish(wctx, data, pubsub.WithReadiness(pubsub.MinTopicSize(1)))
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return t.Publish(ctx, data)
}

// PublishChanged publishes body under kind and key unless the node's log
// already holds exactly it, live: a restart, or a save that changed
// nothing the federation sees, adds nothing to the log. It reports whether
// it published.
func (f *Federation) PublishChanged(ctx context.Context, kind schema.Kind, key string, body []byte) (bool, error) {
	if err := f.ready(); err != nil {
		return false, err
	}
	if e, err := f.rep.Get(ctx, f.PeerID(), kind, key); err == nil && !e.Tombstone && string(e.Body) == string(body) {
		return false, nil
	}
	_, err := f.Publish(ctx, kind, key, body)
	return err == nil, err
}

// WithdrawLive withdraws kind and key if the node's log holds it live. It
// reports whether it withdrew.
func (f *Federation) WithdrawLive(ctx context.Context, kind schema.Kind, key string) (bool, error) {
	if err := f.ready(); err != nil {
		return false, err
	}
	if e, err := f.rep.Get(ctx, f.PeerID(), kind, key); err != nil || e.Tombstone {
		return false, nil
	}
	_, err := f.Withdraw(ctx, kind, key)
	return err == nil, err
}

// PublishProfile publishes the coop's public profile if it changed. A
// profile that is not valid (a coop without offerings has no territory
// yet) is not published.
func (f *Federation) PublishProfile(ctx context.Context, p schema.CoopProfile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := f.PublishChanged(ctx, schema.KindCoop, "profile", body); err != nil {
		return fmt.Errorf("publish coop profile: %w", err)
	}
	return nil
}
