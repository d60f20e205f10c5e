package replica

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/schema"
)

// Apply stores e if it is newer than what the replica holds for its key.
// The caller has verified e. The write is durable when Apply returns, as
// far as the datastore's Sync makes it so.
func (r *Replica) Apply(ctx context.Context, e *schema.Entry) (bool, error) {
	n, err := r.ApplyBatch(ctx, []*schema.Entry{e})
	return n == 1, err
}

// ApplyBatch is Apply for several entries in one datastore batch; it
// returns how many changed the state.
func (r *Replica) ApplyBatch(ctx context.Context, es []*schema.Entry) (int, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	return r.applyLocked(ctx, es, false)
}

// change is one decided write, installed in memory after the batch commits.
type change struct {
	e   *schema.Entry
	old *slot
	new slot
}

// applyPlan is what a batch of entries will change: decided under the read
// lock, written in one datastore batch, then installed in memory.
type applyPlan struct {
	changes []change
	overlay map[string]map[string]slot     // writes decided earlier in the batch, by overlayKey
	marks   map[string]uint64              // publishers whose mark advances, to what
	seen    map[string]map[uint64]struct{} // publishers' new sets of seen seqs
}

// applyLocked runs with writeMu held. ownMark makes every entry advance its
// publisher's mark to its seq: the publisher's own appends.
func (r *Replica) applyLocked(ctx context.Context, es []*schema.Entry, ownMark bool) (int, error) {
	r.mu.RLock()
	pl := r.planLocked(es, ownMark)
	r.mu.RUnlock()

	var olds []*schema.Entry
	if r.hasListeners() {
		var err error
		if olds, err = r.replaced(ctx, pl.changes); err != nil {
			return 0, err
		}
	}
	if err := r.commit(ctx, pl); err != nil {
		return 0, err
	}

	r.mu.Lock()
	r.installLocked(pl)
	listeners := slices.Clone(r.listeners)
	r.mu.Unlock()
	if err := r.advanceByCheckpoints(ctx, pl.touched()); err != nil {
		return 0, err
	}

	for i, c := range pl.changes {
		var old *schema.Entry
		if olds != nil {
			old = olds[i]
		}
		for _, fn := range listeners {
			fn(old, c.e)
		}
	}
	return len(pl.changes), nil
}

// planLocked decides, with mu held for reading, which entries change the
// state and how far each publisher's mark advances.
func (r *Replica) planLocked(es []*schema.Entry, ownMark bool) *applyPlan {
	pl := &applyPlan{
		overlay: make(map[string]map[string]slot),
		marks:   make(map[string]uint64),
		seen:    make(map[string]map[uint64]struct{}),
	}
	for _, e := range es {
		p := r.pubs[e.Publisher]
		mark, ok := pl.marks[e.Publisher]
		if !ok && p != nil {
			mark = p.mark
		}
		if err := r.checkLocked(e, pl.overlay); err == nil {
			c := change{e: e, new: slot{seq: e.Seq, tomb: e.Tombstone}}
			if old, ok := r.heldLocked(e.Publisher, e.Kind, e.Key, pl.overlay); ok {
				c.old = &old
			}
			pl.changes = append(pl.changes, c)
			if pl.overlay[e.Publisher] == nil {
				pl.overlay[e.Publisher] = make(map[string]slot)
			}
			pl.overlay[e.Publisher][overlayKey(e.Kind, e.Key)] = c.new
		}
		switch {
		case ownMark && e.Seq > mark:
			pl.marks[e.Publisher] = e.Seq
		case e.Seq > mark:
			pl.see(e.Publisher, p, e.Seq, mark)
		}
	}
	return pl
}

// touched lists the publishers whose state the plan changes.
func (pl *applyPlan) touched() map[string]bool {
	out := make(map[string]bool, len(pl.overlay))
	for pub := range pl.overlay {
		out[pub] = true
	}
	return out
}

// see records seq of pub (held state p, possibly nil) as seen: stored, or
// superseded by a newer one held. A seen seq lets the mark advance once
// everything below it is seen too.
func (pl *applyPlan) see(pub string, p *pubState, seq, mark uint64) {
	s := pl.seen[pub]
	if s == nil {
		s = make(map[uint64]struct{})
		if p != nil {
			maps.Copy(s, p.seen)
		}
		pl.seen[pub] = s
	}
	if len(s) < maxSeen {
		s[seq] = struct{}{}
	}
	m := seenThrough(s, mark)
	for q := mark + 1; q <= m; q++ {
		delete(s, q)
	}
	if m != mark {
		pl.marks[pub] = m
	}
}

// seenThrough is how far mark advances over the run of seen seqs right
// above it.
func seenThrough(seen map[uint64]struct{}, mark uint64) uint64 {
	m := mark
	for range len(seen) {
		if _, ok := seen[m+1]; !ok {
			break
		}
		m++
	}
	return m
}

// replaced reads, for the listeners, the entry each change replaces (nil
// for a new key).
func (r *Replica) replaced(ctx context.Context, changes []change) ([]*schema.Entry, error) {
	olds := make([]*schema.Entry, len(changes))
next:
	for i, c := range changes {
		if c.old == nil {
			continue
		}
		// Within one batch the same key may change twice; the second
		// change replaces the first one's entry, not a stored one.
		for j := i - 1; j >= 0; j-- {
			if p := changes[j].e; p.Publisher == c.e.Publisher && p.Kind == c.e.Kind && p.Key == c.e.Key {
				olds[i] = p
				continue next
			}
		}
		old, err := r.getSlot(ctx, c.e.Publisher, c.e.Kind, c.e.Key, *c.old)
		if err != nil {
			return nil, fmt.Errorf("apply: read replaced entry: %w", err)
		}
		olds[i] = old
	}
	return olds, nil
}

// commit writes the plan's entries and marks in one datastore batch and
// syncs it.
func (r *Replica) commit(ctx context.Context, pl *applyPlan) error {
	if len(pl.changes) == 0 && len(pl.marks) == 0 {
		return nil
	}
	b, err := r.ds.Batch(ctx)
	if err != nil {
		return fmt.Errorf("apply: start batch: %w", err)
	}
	for _, c := range pl.changes {
		e := c.e
		if c.old != nil {
			if err := b.Delete(ctx, entryKey(e.Publisher, e.Kind, e.Key, *c.old)); err != nil {
				return fmt.Errorf("apply: delete superseded entry: %w", err)
			}
		}
		if err := b.Put(ctx, entryKey(e.Publisher, e.Kind, e.Key, c.new), e.Marshal()); err != nil {
			return fmt.Errorf("apply: put entry: %w", err)
		}
	}
	for pub, m := range pl.marks {
		if err := b.Put(ctx, markKey(pub), binary.AppendUvarint(nil, m)); err != nil {
			return fmt.Errorf("apply: put mark: %w", err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	if err := r.ds.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("apply: sync: %w", err)
	}
	return nil
}

// installLocked puts a committed plan into the in-memory index; mu is held
// for writing.
func (r *Replica) installLocked(pl *applyPlan) {
	for _, c := range pl.changes {
		e := c.e
		p := r.pub(e.Publisher)
		if c.old != nil {
			r.remove(e.Publisher, e.Kind, e.Key, p, *c.old)
		}
		r.insert(e.Publisher, e.Kind, e.Key, p, c.new)
		if e.Kind == schema.KindCheckpoint {
			p.noteCheckpoint(e)
		}
	}
	for pub, s := range pl.seen {
		r.pub(pub).seen = s
	}
	for pub, m := range pl.marks {
		r.pub(pub).setMark(m)
	}
}

// setMark raises the mark and forgets the seen seqs it now covers.
func (p *pubState) setMark(m uint64) {
	p.mark = m
	for q := range p.seen {
		if q <= m {
			delete(p.seen, q)
		}
	}
}

// RaiseMark records that the replica's state for publisher is complete
// through mark. A lower mark is ignored. Only the node's own knowledge
// may call it (tests setting up a replica, a restore): catch-up never
// does, since a peer's word is not proof (checkpoint.go).
func (r *Replica) RaiseMark(ctx context.Context, publisher string, mark uint64) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.RLock()
	p := r.pubs[publisher]
	cur, m := uint64(0), mark
	if p != nil {
		cur, m = p.mark, seenThrough(p.seen, mark)
	}
	r.mu.RUnlock()
	if m <= cur {
		return nil
	}
	if err := r.storeMarks(ctx, map[string]uint64{publisher: m}); err != nil {
		return fmt.Errorf("raise mark of %s: %w", publisher, err)
	}
	return nil
}

// Append adds an entry to the log of priv's publisher: the next seq,
// signed, applied. Appends are serialised with every other write.
func (r *Replica) Append(ctx context.Context, priv ed25519.PrivateKey, kind schema.Kind, key string, body []byte, tombstone bool, now time.Time) (*schema.Entry, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	return r.appendLocked(ctx, priv, kind, key, body, tombstone, now)
}

// appendLocked is Append with writeMu held.
func (r *Replica) appendLocked(ctx context.Context, priv ed25519.PrivateKey, kind schema.Kind, key string, body []byte, tombstone bool, now time.Time) (*schema.Entry, error) {
	pub := schema.PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	r.mu.RLock()
	var next uint64 = 1
	if p := r.pubs[pub]; p != nil {
		next = max(p.maxSeq, p.mark) + 1
	}
	r.mu.RUnlock()
	e := &schema.Entry{Seq: next, Kind: kind, Key: key, Tombstone: tombstone, IssuedAt: now, Body: body}
	if err := e.Sign(priv); err != nil {
		return nil, fmt.Errorf("append %s %q: %w", kind, key, err)
	}
	if _, err := r.applyLocked(ctx, []*schema.Entry{e}, true); err != nil {
		return nil, fmt.Errorf("append %s %q: %w", kind, key, err)
	}
	return e, nil
}
