package replica

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

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
// four; the rest are room for kinds of newer versions that catch-up
// relays (AdmitKind), and the bound keeps a publisher from inventing
// kinds without end.
const MaxKinds = 64

// maxSeen bounds, per publisher, how many out-of-order seqs above the mark
// are remembered for advancing it; beyond that, catch-up closes the gap.
const maxSeen = 4096

// Datastore layout, under the caller's namespace:
//
//	/e/<publisher>/<kind hex>/<key hex>/<seq, 16 hex digits><t|l>  wire bytes of the current entry
//	/m/<publisher>                                                 uvarint complete-through mark
//
// Everything the in-memory index needs is in the entry's datastore key, so
// Open rebuilds it with a keys-only scan and never reads entry bodies.
const (
	entryPrefix = "/e"
	markPrefix  = "/m"
)

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
	keys   map[string]slot     // kind index byte + key
	seen   map[uint64]struct{} // seqs above mark already seen (held or superseded)
}

// PublisherStat summarises what the replica holds of one publisher.
type PublisherStat struct {
	Publisher string
	Mark      uint64 // complete through this seq
	MaxSeq    uint64 // highest seq held
	Live      int    // current non-tombstone records
}

// Open loads the index and marks from ds, which the caller has already
// namespaced for the replica.
func Open(ctx context.Context, ds datastore.Batching) (*Replica, error) {
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
		if old, ok := p.keys[ik]; ok {
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
	s, ok := p.keys[ik]
	return s, ok
}

func overlayKey(kind schema.Kind, key string) string { return string(kind) + "\x00" + key }

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

// applyLocked runs with writeMu held. ownMark makes every entry advance its
// publisher's mark to its seq: the publisher's own appends.
func (r *Replica) applyLocked(ctx context.Context, es []*schema.Entry, ownMark bool) (int, error) {
	var (
		changes []change
		overlay = make(map[string]map[string]slot)
		marks   = make(map[string]uint64)
		seen    = make(map[string]map[uint64]struct{})
	)
	r.mu.RLock()
	for _, e := range es {
		p := r.pubs[e.Publisher]
		mark, ok := marks[e.Publisher]
		if !ok && p != nil {
			mark = p.mark
		}
		err := r.checkLocked(e, overlay)
		if err == nil {
			c := change{e: e, new: slot{seq: e.Seq, tomb: e.Tombstone}}
			if old, ok := r.heldLocked(e.Publisher, e.Kind, e.Key, overlay); ok {
				c.old = &old
			}
			changes = append(changes, c)
			if overlay[e.Publisher] == nil {
				overlay[e.Publisher] = make(map[string]slot)
			}
			overlay[e.Publisher][overlayKey(e.Kind, e.Key)] = c.new
		}
		switch {
		case ownMark && e.Seq > mark:
			marks[e.Publisher] = e.Seq
		case e.Seq > mark:
			// A seen seq (stored, or superseded by a newer one held) lets
			// the mark advance once everything below it is seen too.
			s := seen[e.Publisher]
			if s == nil {
				s = make(map[uint64]struct{})
				if p != nil {
					for q := range p.seen {
						s[q] = struct{}{}
					}
				}
				seen[e.Publisher] = s
			}
			if len(s) < maxSeen {
				s[e.Seq] = struct{}{}
			}
			m := mark
			for range len(s) {
				if _, ok := s[m+1]; !ok {
					break
				}
				delete(s, m+1)
				m++
			}
			if m != mark {
				marks[e.Publisher] = m
			}
		}
	}
	r.mu.RUnlock()

	var olds []*schema.Entry
	if r.hasListeners() {
		olds = make([]*schema.Entry, len(changes))
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
				return 0, fmt.Errorf("apply: read replaced entry: %w", err)
			}
			olds[i] = old
		}
	}

	if len(changes) > 0 || len(marks) > 0 {
		b, err := r.ds.Batch(ctx)
		if err != nil {
			return 0, fmt.Errorf("apply: start batch: %w", err)
		}
		for _, c := range changes {
			e := c.e
			if c.old != nil {
				if err := b.Delete(ctx, entryKey(e.Publisher, e.Kind, e.Key, *c.old)); err != nil {
					return 0, fmt.Errorf("apply: delete superseded entry: %w", err)
				}
			}
			if err := b.Put(ctx, entryKey(e.Publisher, e.Kind, e.Key, c.new), e.Marshal()); err != nil {
				return 0, fmt.Errorf("apply: put entry: %w", err)
			}
		}
		for pub, m := range marks {
			if err := b.Put(ctx, markKey(pub), binary.AppendUvarint(nil, m)); err != nil {
				return 0, fmt.Errorf("apply: put mark: %w", err)
			}
		}
		if err := b.Commit(ctx); err != nil {
			return 0, fmt.Errorf("apply: commit: %w", err)
		}
		if err := r.ds.Sync(ctx, datastore.NewKey("/")); err != nil {
			return 0, fmt.Errorf("apply: sync: %w", err)
		}
	}

	r.mu.Lock()
	for _, c := range changes {
		e := c.e
		p := r.pub(e.Publisher)
		if c.old != nil {
			r.remove(e.Publisher, e.Kind, e.Key, p, *c.old)
		}
		r.insert(e.Publisher, e.Kind, e.Key, p, c.new)
	}
	for pub, s := range seen {
		r.pub(pub).seen = s
	}
	for pub, m := range marks {
		p := r.pub(pub)
		p.mark = m
		for q := range p.seen {
			if q <= m {
				delete(p.seen, q)
			}
		}
	}
	listeners := slices.Clone(r.listeners)
	r.mu.Unlock()

	for i, c := range changes {
		var old *schema.Entry
		if olds != nil {
			old = olds[i]
		}
		for _, fn := range listeners {
			fn(old, c.e)
		}
	}
	return len(changes), nil
}

// RaiseMark records that the replica's state for publisher is complete
// through mark (catch-up learnt it from a peer). A lower mark is ignored.
func (r *Replica) RaiseMark(ctx context.Context, publisher string, mark uint64) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.RLock()
	p := r.pubs[publisher]
	cur := uint64(0)
	if p != nil {
		cur = p.mark
	}
	m := mark
	if p != nil {
		for range len(p.seen) {
			if _, ok := p.seen[m+1]; !ok {
				break
			}
			m++
		}
	}
	r.mu.RUnlock()
	if m <= cur {
		return nil
	}
	if err := r.ds.Put(ctx, markKey(publisher), binary.AppendUvarint(nil, m)); err != nil {
		return fmt.Errorf("raise mark of %s: %w", publisher, err)
	}
	if err := r.ds.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("raise mark of %s: sync: %w", publisher, err)
	}
	r.mu.Lock()
	p = r.pub(publisher)
	p.mark = m
	for q := range p.seen {
		if q <= m {
			delete(p.seen, q)
		}
	}
	r.mu.Unlock()
	return nil
}

// Append adds an entry to the log of priv's publisher: the next seq,
// signed, applied. Appends are serialised with every other write.
func (r *Replica) Append(ctx context.Context, priv ed25519.PrivateKey, kind schema.Kind, key string, body []byte, tombstone bool, now time.Time) (*schema.Entry, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
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
			total += len(p.keys)
			for k, sl := range p.keys {
				if k[0] == prefix && !sl.tomb {
					refs = append(refs, ref{pub, k[1:], sl})
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
		for ik, s := range p.keys {
			if s.seq > after {
				kind, key := r.splitIndexKey(ik)
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

// Digest is an order-independent digest of the current state: the sum
// modulo 2^256 of SHA-256 over each (publisher, kind, key, seq). Two
// replicas with equal digests hold the same state, barring a publisher who
// deliberately crafts entries to collide (a generalised-birthday attack on
// additive set hashes); catch-up uses it only to skip work.
func (r *Replica) Digest() [32]byte {
	r.mu.RLock()
	d := r.digest
	r.mu.RUnlock()
	var out [32]byte
	for i, w := range d {
		binary.BigEndian.PutUint64(out[24-8*i:], w)
	}
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

// --- index helpers; callers hold mu for writing unless noted ---

func (r *Replica) pub(publisher string) *pubState {
	p := r.pubs[publisher]
	if p == nil {
		p = &pubState{keys: make(map[string]slot)}
		r.pubs[publisher] = p
	}
	return p
}

// indexKey numbers kind (adding it if new) and prefixes key with the
// number: one byte instead of the kind's name in each of 100k index keys.
func (r *Replica) indexKey(kind schema.Kind, key string) string {
	i := slices.Index(r.kinds, kind)
	if i < 0 {
		r.kinds = append(r.kinds, kind)
		i = len(r.kinds) - 1
	}
	return string([]byte{byte(i)}) + key
}

// AdmitKind makes room for kind in the index, or refuses it with
// ErrTooManyKinds when MaxKinds are held already. Callers storing kinds
// from the network that this version does not know (catch-up) admit each
// before applying it.
func (r *Replica) AdmitKind(kind schema.Kind) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.kinds, kind) {
		return nil
	}
	if len(r.kinds) >= MaxKinds {
		return fmt.Errorf("%w: %q would be kind %d of at most %d", ErrTooManyKinds, kind, len(r.kinds)+1, MaxKinds)
	}
	r.kinds = append(r.kinds, kind)
	return nil
}

// lookupIndexKey is indexKey for readers: it never adds a kind.
func (r *Replica) lookupIndexKey(kind schema.Kind, key string) (string, bool) {
	i := slices.Index(r.kinds, kind)
	if i < 0 {
		return "", false
	}
	return string([]byte{byte(i)}) + key, true
}

func (r *Replica) splitIndexKey(ik string) (schema.Kind, string) {
	return r.kinds[ik[0]], ik[1:]
}

func (r *Replica) insert(publisher string, kind schema.Kind, key string, p *pubState, s slot) {
	p.keys[r.indexKey(kind, key)] = s
	p.maxSeq = max(p.maxSeq, s.seq)
	if !s.tomb {
		p.live++
	}
	addDigest(&r.digest, stateHash(publisher, kind, key, s.seq), false)
}

func (r *Replica) remove(publisher string, kind schema.Kind, key string, p *pubState, s slot) {
	delete(p.keys, r.indexKey(kind, key))
	if !s.tomb {
		p.live--
	}
	addDigest(&r.digest, stateHash(publisher, kind, key, s.seq), true)
}

func stateHash(publisher string, kind schema.Kind, key string, seq uint64) [32]byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	for _, f := range []string{publisher, string(kind), key} {
		h.Write(binary.AppendUvarint(buf[:0], uint64(len(f))))
		h.Write([]byte(f))
	}
	h.Write(binary.BigEndian.AppendUint64(buf[:0], seq))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// addDigest adds (or subtracts) h to d as 256-bit integers, d[0] being the
// least significant word.
func addDigest(d *[4]uint64, h [32]byte, subtract bool) {
	var carry uint64
	for i := range 4 {
		w := binary.BigEndian.Uint64(h[24-8*i:])
		if subtract {
			d[i], carry = bits.Sub64(d[i], w, carry)
		} else {
			d[i], carry = bits.Add64(d[i], w, carry)
		}
	}
}

// --- datastore keys ---

func entryKey(publisher string, kind schema.Kind, key string, s slot) datastore.Key {
	t := "l"
	if s.tomb {
		t = "t"
	}
	return datastore.RawKey(entryPrefix + "/" + publisher + "/" + hex.EncodeToString([]byte(kind)) + "/" +
		hex.EncodeToString([]byte(key)) + "/" + fmt.Sprintf("%016x", s.seq) + t)
}

func markKey(publisher string) datastore.Key {
	return datastore.RawKey(markPrefix + "/" + publisher)
}

type parsedKey struct {
	publisher string
	kind      schema.Kind
	key       string
	seq       uint64
	tomb      bool
}

func parseEntryKey(k string) (parsedKey, error) {
	parts := strings.Split(strings.TrimPrefix(k, entryPrefix+"/"), "/")
	if len(parts) != 4 || len(parts[3]) != 17 {
		return parsedKey{}, fmt.Errorf("bad entry key %q", k)
	}
	kind, err1 := hex.DecodeString(parts[1])
	key, err2 := hex.DecodeString(parts[2])
	seq, err3 := strconv.ParseUint(parts[3][:16], 16, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return parsedKey{}, fmt.Errorf("bad entry key %q: %w", k, err)
	}
	return parsedKey{publisher: parts[0], kind: schema.Kind(kind), key: string(key), seq: seq, tomb: parts[3][16] == 't'}, nil
}
