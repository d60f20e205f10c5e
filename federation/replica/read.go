package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/difronte/difronte/schema"
)

// Get returns the current entry (possibly a tombstone) for the key, or
// datastore.ErrNotFound.
func (r *Replica) Get(ctx context.Context, publisher string, kind schema.Kind, key string) (*schema.Entry, error) {
	r.mu.RLock()
	s, ok := r.heldLocked(publisher, kind, key, nil)
	r.mu.RUnlock()
	if !ok {
		return nil, datastore.ErrNotFound
	}
	return r.getSlot(ctx, publisher, kind, key, s)
}

func (r *Replica) getSlot(ctx context.Context, publisher string, kind schema.Kind, key string, s slot) (*schema.Entry, error) {
	b, err := r.ds.Get(ctx, entryKey(publisher, kind, key, s))
	if err != nil {
		return nil, err
	}
	e, err := schema.UnmarshalEntryAnyKindUnverified(b)
	if err != nil {
		return nil, fmt.Errorf("stored entry of %s seq %d: %w", publisher, s.seq, err)
	}
	return e, nil
}

// Current calls fn for every live (non-tombstone) record of kind, in no
// particular order, stopping at fn's first error.
func (r *Replica) Current(ctx context.Context, kind schema.Kind, fn func(*schema.Entry) error) error {
	// A kind that is a small part of the replica (coop profiles, and on
	// most nodes qualifications and status lists) is read by point reads
	// from the in-memory index: scanning every value of a 100k-offering
	// replica for a few hundred profiles costs a second at start-up.
	type ref struct {
		publisher, key string
		s              slot
	}
	var refs []ref
	total := 0
	r.mu.RLock()
	if ik, ok := r.lookupIndexKey(kind, ""); ok {
		prefix := ik[0]
		for pub, p := range r.pubs {
			total += p.keys.len()
			for k, sl := range p.keys.all() {
				if k[0] == prefix && !sl.tomb {
					refs = append(refs, ref{pub, string(k[1:]), sl})
				}
			}
		}
	}
	r.mu.RUnlock()
	if len(refs) == 0 {
		return nil
	}
	if len(refs)*20 < total {
		for _, rf := range refs {
			e, err := r.getSlot(ctx, rf.publisher, kind, rf.key, rf.s)
			if errors.Is(err, datastore.ErrNotFound) {
				continue // superseded since the index was read
			}
			if err != nil {
				return fmt.Errorf("current %s: %w", kind, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := r.ds.Query(ctx, query.Query{Prefix: entryPrefix})
	if err != nil {
		return fmt.Errorf("current %s: %w", kind, err)
	}
	defer res.Close()
	for item := range res.Next() {
		if item.Error != nil {
			return fmt.Errorf("current %s: %w", kind, item.Error)
		}
		k, err := parseEntryKey(item.Key)
		if err != nil {
			return fmt.Errorf("current %s: %w", kind, err)
		}
		if k.kind != kind || k.tomb {
			continue
		}
		e, err := schema.UnmarshalEntryAnyKindUnverified(item.Value)
		if err != nil {
			return fmt.Errorf("current %s: stored entry %s: %w", kind, item.Key, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Since calls fn, in seq order, for every current entry of publisher
// (tombstones included) with seq > after, stopping at fn's first error.
func (r *Replica) Since(ctx context.Context, publisher string, after uint64, fn func(*schema.Entry) error) error {
	type ref struct {
		kind schema.Kind
		key  string
		s    slot
	}
	var refs []ref
	r.mu.RLock()
	if p := r.pubs[publisher]; p != nil {
		for ik, s := range p.keys.all() {
			if s.seq > after {
				kind, key := r.splitIndexKey(string(ik))
				refs = append(refs, ref{kind, key, s})
			}
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(refs, func(a, b ref) int {
		switch {
		case a.s.seq < b.s.seq:
			return -1
		case a.s.seq > b.s.seq:
			return 1
		}
		return 0
	})
	for _, f := range refs {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := r.getSlot(ctx, publisher, f.kind, f.key, f.s)
		if errors.Is(err, datastore.ErrNotFound) {
			continue // superseded meanwhile; the newer entry has a higher seq
		}
		if err != nil {
			return fmt.Errorf("since %d of %s: %w", after, publisher, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Seq returns the seq of the current entry for a key and whether it is a
// tombstone, from the in-memory index (no store read); ok is false when
// the replica holds nothing for the key.
func (r *Replica) Seq(publisher string, kind schema.Kind, key string) (seq uint64, tomb, ok bool) {
	r.mu.RLock()
	s, ok := r.heldLocked(publisher, kind, key, nil)
	r.mu.RUnlock()
	return s.seq, s.tomb, ok
}

// Holders returns, sorted, the publishers holding a live record of kind
// under key, from the in-memory index.
func (r *Replica) Holders(kind schema.Kind, key string) []string {
	r.mu.RLock()
	var out []string
	if ik, ok := r.lookupIndexKey(kind, key); ok {
		for pub, p := range r.pubs {
			if s, ok := p.keys.get(ik); ok && !s.tomb {
				out = append(out, pub)
			}
		}
	}
	r.mu.RUnlock()
	slices.Sort(out)
	return out
}

// CountLive returns how many live records of kind the replica holds.
func (r *Replica) CountLive(kind schema.Kind) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ik, ok := r.lookupIndexKey(kind, "")
	if !ok {
		return 0
	}
	n := 0
	for _, p := range r.pubs {
		for k, s := range p.keys.all() {
			if k[0] == ik[0] && !s.tomb {
				n++
			}
		}
	}
	return n
}
