package replica

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/schema"
)

// Marks and checkpoints. A publisher's mark says the replica holds every
// entry of its log that is still current through that seq, so catch-up
// asks peers only for what lies above it. A mark advances in three ways
// only: by the publisher's own appends; by contiguity (every seq up to it
// seen here, held or superseded by one held); and by a checkpoint of the
// publisher's, an entry it signed, when what the replica holds below the
// checkpoint's seq is exactly what the checkpoint describes. A peer's
// word alone never moves it: that is what kept a peer that sent only a
// publisher's newest entry from hiding the older ones for good.

// cpRef is what the replica keeps of a publisher's current checkpoint.
type cpRef struct {
	seq     uint64 // 0: none held
	entries int
	state   [32]byte
}

// noteCheckpoint records e, a checkpoint entry being installed, in p.
func (p *pubState) noteCheckpoint(e *schema.Entry) {
	p.cp = cpRef{}
	if e.Tombstone {
		return
	}
	c, state, err := schema.DecodeCheckpoint(e.Body)
	if err != nil {
		return // never interpreted: the mark cannot advance by it
	}
	p.cp = cpRef{seq: e.Seq, entries: c.Entries, state: state}
}

// refsLocked lists p's current entries with seq below limit, the
// checkpoint excluded; mu is held.
func (r *Replica) refsLocked(p *pubState, limit uint64) []schema.LogRef {
	refs := make([]schema.LogRef, 0, p.keys.len())
	for ik, s := range p.keys.all() {
		if s.seq >= limit {
			continue
		}
		kind, key := r.splitIndexKey(string(ik))
		if kind == schema.KindCheckpoint {
			continue
		}
		refs = append(refs, schema.LogRef{Seq: s.seq, Kind: kind, Key: key, Tombstone: s.tomb})
	}
	return refs
}

// matchesLocked reports whether what the replica holds of p below its
// checkpoint is what the checkpoint describes; mu is held.
func (r *Replica) matchesLocked(p *pubState) bool {
	n := 0
	for _, s := range p.keys.all() {
		if s.seq < p.cp.seq {
			n++
		}
	}
	// The checkpoint itself is held at p.cp.seq, so every other key
	// below it counts; a count that differs saves the hashing.
	if n != p.cp.entries {
		return false
	}
	return schema.CheckpointState(r.refsLocked(p, p.cp.seq)) == p.cp.state
}

// checkpointMarks returns, for those of pubs whose checkpoint lies above
// the mark and matches, the mark it lets them reach.
func (r *Replica) checkpointMarks(pubs map[string]bool) map[string]uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]uint64)
	for pub := range pubs {
		p := r.pubs[pub]
		if p == nil || p.cp.seq <= p.mark || !r.matchesLocked(p) {
			continue
		}
		out[pub] = seenThrough(p.seen, p.cp.seq)
	}
	return out
}

// advanceByCheckpoints raises the marks of pubs that a held checkpoint
// lets advance; writeMu is held.
func (r *Replica) advanceByCheckpoints(ctx context.Context, pubs map[string]bool) error {
	marks := r.checkpointMarks(pubs)
	if len(marks) == 0 {
		return nil
	}
	return r.storeMarks(ctx, marks)
}

// storeMarks writes marks durably, then installs them; writeMu is held.
func (r *Replica) storeMarks(ctx context.Context, marks map[string]uint64) error {
	b, err := r.ds.Batch(ctx)
	if err != nil {
		return fmt.Errorf("store marks: %w", err)
	}
	for pub, m := range marks {
		if err := b.Put(ctx, markKey(pub), binary.AppendUvarint(nil, m)); err != nil {
			return fmt.Errorf("store mark of %s: %w", pub, err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("store marks: %w", err)
	}
	if err := r.ds.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("store marks: sync: %w", err)
	}
	r.mu.Lock()
	for pub, m := range marks {
		if p := r.pub(pub); m > p.mark {
			p.setMark(m)
		}
	}
	r.mu.Unlock()
	return nil
}

// loadCheckpoints reads, at Open, the current checkpoint of every
// publisher that has one, and advances the marks they allow (a crash may
// have come between storing a checkpoint and its mark).
func (r *Replica) loadCheckpoints(ctx context.Context) error {
	all := make(map[string]bool)
	for pub, p := range r.pubs {
		s, ok := p.keys.get(r.indexKey(schema.KindCheckpoint, schema.CheckpointKey))
		if !ok {
			continue
		}
		e, err := r.getSlot(ctx, pub, schema.KindCheckpoint, schema.CheckpointKey, s)
		if err != nil {
			return fmt.Errorf("open replica: checkpoint of %s: %w", pub, err)
		}
		p.noteCheckpoint(e)
		all[pub] = true
	}
	return r.advanceByCheckpoints(ctx, all)
}

// Checkpoint appends to the log of priv's publisher a checkpoint of it,
// if the log has changed since its last checkpoint; it returns the new
// entry, or nil when there was nothing to do. The federation calls it a
// moment after its own publishes and gossips the result.
func (r *Replica) Checkpoint(ctx context.Context, priv ed25519.PrivateKey, now time.Time) (*schema.Entry, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	pub := schema.PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	r.mu.RLock()
	p := r.pubs[pub]
	if p == nil || p.maxSeq <= p.cp.seq {
		r.mu.RUnlock()
		return nil, nil
	}
	body := schema.CheckpointBody(r.refsLocked(p, p.maxSeq+1))
	r.mu.RUnlock()
	return r.appendLocked(ctx, priv, schema.KindCheckpoint, schema.CheckpointKey, body, false, now)
}
