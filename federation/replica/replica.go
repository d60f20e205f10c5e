package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/schema"
)

// Sentinels of Check: the entry is not newer than what the replica holds.
var (
	ErrStale     = errors.New("entry older than the one held")
	ErrDuplicate = errors.New("entry already held")
	// ErrTooManyKinds refuses a kind beyond MaxKinds (AdmitKind).
	ErrTooManyKinds = errors.New("too many record kinds")
)

// MaxKinds bounds the distinct kinds a replica holds. This version knows
// five; the rest are room for kinds of newer versions that catch-up
// relays (AdmitKind), and the bound keeps a publisher from inventing
// kinds without end.
const MaxKinds = 64

// maxSeen bounds, per publisher, how many out-of-order seqs above the mark
// are remembered for advancing it; beyond that, catch-up closes the gap.
const maxSeen = 4096

// Replica is the verified public replica. Its methods are safe for
// concurrent use; writes are serialised.
type Replica struct {
	ds datastore.Batching

	// writeMu serialises writers and the OnChange calls they make, so
	// listeners see changes in order and may read the replica.
	writeMu sync.Mutex

	mu        sync.RWMutex // guards everything below
	pubs      map[string]*pubState
	kinds     []schema.Kind // index byte → kind, to keep index keys short
	digest    [4]uint64     // sum mod 2^256 of the hashes of current (publisher, kind, key, seq)
	listeners []func(old, cur *schema.Entry)
}

type slot struct {
	seq  uint64
	tomb bool
}

type pubState struct {
	mark   uint64
	maxSeq uint64
	live   int
	keys   *keyIndex           // kind index byte + key → slot
	seen   map[uint64]struct{} // seqs above mark already seen (held or superseded)
	cp     cpRef               // the publisher's current checkpoint (checkpoint.go)
}

// PublisherStat summarises what the replica holds of one publisher.
type PublisherStat struct {
	Publisher string
	Mark      uint64 // complete through this seq
	MaxSeq    uint64 // highest seq held
	Live      int    // current non-tombstone records
}

// Datastore is where a replica lives: a go-datastore the caller has
// namespaced for it. federation's Config names it through this alias, so
// only replica, of the federation, imports go-datastore.
type Datastore = datastore.Batching

// NewMemory is an in-memory Datastore: nothing survives a restart.
func NewMemory() Datastore { return dssync.MutexWrap(datastore.NewMapDatastore()) }

// Open loads the index and marks from ds, which the caller has already
// namespaced for the replica.
func Open(ctx context.Context, ds Datastore) (*Replica, error) {
	r := &Replica{ds: ds, pubs: make(map[string]*pubState)}
	res, err := ds.Query(ctx, query.Query{Prefix: entryPrefix, KeysOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open replica: query entries: %w", err)
	}
	var obsolete []datastore.Key
	for item := range res.Next() {
		if item.Error != nil {
			res.Close()
			return nil, fmt.Errorf("open replica: scan entries: %w", item.Error)
		}
		k, err := parseEntryKey(item.Key)
		if err != nil {
			res.Close()
			return nil, fmt.Errorf("open replica: %w", err)
		}
		p := r.pub(k.publisher)
		ik := r.indexKey(k.kind, k.key)
		if old, ok := p.keys.get(ik); ok {
			// Only a crash between writes of a non-atomic datastore
			// leaves two; the higher seq is the current one.
			if old.seq >= k.seq {
				obsolete = append(obsolete, datastore.RawKey(item.Key))
				continue
			}
			obsolete = append(obsolete, entryKey(k.publisher, k.kind, k.key, old))
			r.remove(k.publisher, k.kind, k.key, p, old)
		}
		r.insert(k.publisher, k.kind, k.key, p, slot{seq: k.seq, tomb: k.tomb})
	}
	res.Close()
	for _, k := range obsolete {
		if err := ds.Delete(ctx, k); err != nil {
			return nil, fmt.Errorf("open replica: drop superseded entry: %w", err)
		}
	}
	res, err = ds.Query(ctx, query.Query{Prefix: markPrefix})
	if err != nil {
		return nil, fmt.Errorf("open replica: query marks: %w", err)
	}
	defer res.Close()
	for item := range res.Next() {
		if item.Error != nil {
			return nil, fmt.Errorf("open replica: scan marks: %w", item.Error)
		}
		pub := strings.TrimPrefix(item.Key, markPrefix+"/")
		m, n := binary.Uvarint(item.Value)
		if n <= 0 {
			return nil, fmt.Errorf("open replica: bad mark for %s", pub)
		}
		r.pub(pub).mark = m
	}
	if err := r.loadCheckpoints(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Check reports whether e would change the replica: ErrDuplicate if the
// replica holds exactly e's seq for its key, ErrStale if it holds a newer
// one or e's seq is at or below the publisher's complete-through mark
// (an entry there that is not held can only be an equivocation).
func (r *Replica) Check(e *schema.Entry) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.checkLocked(e, nil)
}

func (r *Replica) checkLocked(e *schema.Entry, overlay map[string]map[string]slot) error {
	held, ok := r.heldLocked(e.Publisher, e.Kind, e.Key, overlay)
	if ok && held.seq == e.Seq {
		return ErrDuplicate
	}
	if ok && held.seq > e.Seq {
		return ErrStale
	}
	if p := r.pubs[e.Publisher]; p != nil && e.Seq <= p.mark {
		return ErrStale
	}
	return nil
}

// heldLocked finds the held slot for a key, looking first at writes
// decided earlier in the same batch (overlay, keyed by overlayKey).
func (r *Replica) heldLocked(pub string, kind schema.Kind, key string, overlay map[string]map[string]slot) (slot, bool) {
	if o, ok := overlay[pub][overlayKey(kind, key)]; ok {
		return o, true
	}
	ik, known := r.lookupIndexKey(kind, key)
	if !known {
		return slot{}, false
	}
	p := r.pubs[pub]
	if p == nil {
		return slot{}, false
	}
	return p.keys.get(ik)
}

func overlayKey(kind schema.Kind, key string) string { return string(kind) + "\x00" + key }

// Marks returns each known publisher's complete-through seq.
func (r *Replica) Marks() map[string]uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := make(map[string]uint64, len(r.pubs))
	for pub, p := range r.pubs {
		m[pub] = p.mark
	}
	return m
}

// Publishers summarises every known publisher, sorted by peer ID.
func (r *Replica) Publishers() []PublisherStat {
	r.mu.RLock()
	out := make([]PublisherStat, 0, len(r.pubs))
	for pub, p := range r.pubs {
		out = append(out, PublisherStat{Publisher: pub, Mark: p.mark, MaxSeq: p.maxSeq, Live: p.live})
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b PublisherStat) int { return strings.Compare(a.Publisher, b.Publisher) })
	return out
}

// OnChange registers fn to be called after every Apply, ApplyBatch or
// Append that changed a key, with the replaced entry (nil for a new key) and
// the new one. Calls are made in order, one at a time; fn may read the
// replica but must not write to it.
func (r *Replica) OnChange(fn func(old, cur *schema.Entry)) {
	r.mu.Lock()
	r.listeners = append(r.listeners, fn)
	r.mu.Unlock()
}

func (r *Replica) hasListeners() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.listeners) > 0
}
