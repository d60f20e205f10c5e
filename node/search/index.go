package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// Qualifier says whether one offering of a publisher is qualified, by which
// authority and until when (zero: no end). It is set per publisher with
// SetQualified.
type Qualifier func(o schema.Offering) (authority string, until time.Time, ok bool)

// Qualification is what a result shows about a qualified offering.
type Qualification struct {
	Authority string    `json:"authority"`
	Until     time.Time `json:"until,omitzero"`
}

// Config configures an index.
type Config struct {
	// Dir holds the index's snapshot; empty keeps it in memory only (tests).
	Dir     string
	Replica *replica.Replica
	Logger  *slog.Logger
	Now     func() time.Time
	// BatchSize bounds how many documents one commit carries (default 1000).
	BatchSize int
}

// Index is the search index of the federated catalogue.
type Index struct {
	cfg Config
	mem *mem
	ana analysis.Analyzer
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	mu        sync.Mutex
	pending   map[string]map[string]bool // publisher -> offering keys to refresh; "" means all of them
	queued    uint64                     // changes queued so far
	committed uint64                     // changes indexed so far
	changed   chan struct{}              // closed and replaced at each commit
	state     map[string]*pubState
	quals     map[string]Qualifier
	digest    []byte    // replica digest at the last commit with nothing pending
	dirty     bool      // changed since the last snapshot
	saved     time.Time // when the last snapshot was written
	closed    bool
}

// pubState is what the index holds of one publisher; it is saved in the
// same snapshot as the documents, so the two never disagree after a crash.
type pubState struct {
	Coop string            `json:"coop,omitempty"`
	Seqs map[string]uint64 `json:"seqs"` // offering key -> indexed seq
	// Stat is the replica's summary of the publisher when last indexed:
	// equal at restart means nothing of it changed.
	Mark, MaxSeq uint64
	Live         int
}

// Open opens (or creates) the index in cfg.Dir, brings it in step with the
// replica (only the publishers whose state changed since the last run), and
// follows the replica's changes until Close.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	x, err := open(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Replica.OnChange(x.onChange)
	if err := x.catchUp(); err != nil {
		x.Close()
		return nil, err
	}
	x.wg.Add(1)
	go x.follow()
	return x, nil
}

func open(cfg Config) (*Index, error) {
	if cfg.Replica == nil {
		return nil, errors.New("search index: no replica")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	ana, err := newAnalyzer()
	if err != nil {
		return nil, err
	}
	x := &Index{
		cfg: cfg, log: cfg.Logger.With("component", "search"), mem: newMem(), ana: ana,
		wake: make(chan struct{}, 1), pending: map[string]map[string]bool{}, changed: make(chan struct{}),
		state: map[string]*pubState{}, quals: map[string]Qualifier{},
	}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	if err := x.load(); err != nil {
		return nil, err
	}
	return x, nil
}

// catchUp queues every publisher whose replica summary differs from what
// the index recorded, and publishers the replica no longer has.
func (x *Index) catchUp() error {
	cur := x.cfg.Replica.Digest()
	if d := x.digest; len(d) == 32 && [32]byte(d) == cur {
		return nil
	}
	seen := map[string]bool{}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, ps := range x.cfg.Replica.Publishers() {
		seen[ps.Publisher] = true
		st := x.state[ps.Publisher]
		if st == nil || st.Mark != ps.Mark || st.MaxSeq != ps.MaxSeq || st.Live != ps.Live {
			x.queueLocked(ps.Publisher, "")
		}
	}
	for p := range x.state {
		if !seen[p] {
			x.queueLocked(p, "")
		}
	}
	if x.queued == 0 {
		// Same publishers and summaries: only the digest was missing.
		x.digest = cur[:]
		x.dirty = true
	}
	return nil
}

// onChange runs on the replica's write path: it only notes the key.
func (x *Index) onChange(_, cur *schema.Entry) {
	if x.ctx.Err() != nil {
		return // closed; the replica has no way to unregister a listener
	}
	switch cur.Kind {
	case schema.KindOffering:
		x.mu.Lock()
		x.queueLocked(cur.Publisher, cur.Key)
		x.mu.Unlock()
	case schema.KindCoop:
		x.mu.Lock()
		x.queueLocked(cur.Publisher, "")
		x.mu.Unlock()
	}
}

func (x *Index) queueLocked(publisher, key string) {
	keys := x.pending[publisher]
	if keys == nil {
		keys = map[string]bool{}
		x.pending[publisher] = keys
	}
	if keys[""] {
		return // the whole publisher is queued already
	}
	if key == "" {
		clear(keys)
	}
	keys[key] = true
	x.queued++
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

func (x *Index) follow() {
	defer x.wg.Done()
	for {
		select {
		case <-x.ctx.Done():
			return
		case <-x.wake:
		}
		x.mu.Lock()
		work, upto := x.pending, x.queued
		x.pending = map[string]map[string]bool{}
		x.mu.Unlock()
		if len(work) == 0 {
			continue
		}
		if err := x.index(x.ctx, work); err != nil {
			if x.ctx.Err() != nil {
				return
			}
			x.log.Error("search index update failed", "err", err)
			// Put the work back; the next change retries it.
			x.mu.Lock()
			for p, keys := range work {
				for k := range keys {
					x.queueLocked(p, k)
				}
			}
			x.mu.Unlock()
			select {
			case <-x.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		x.mu.Lock()
		x.committed = max(x.committed, upto)
		close(x.changed)
		x.changed = make(chan struct{})
		x.mu.Unlock()
	}
}

// Sync waits until every change the replica reported before the call is
// searchable.
func (x *Index) Sync(ctx context.Context) error {
	x.mu.Lock()
	target := x.queued
	x.mu.Unlock()
	for {
		x.mu.Lock()
		done, ch := x.committed >= target, x.changed
		x.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-x.ctx.Done():
			return errors.New("search index closed")
		case <-ch:
		}
	}
}

// batcher collects document changes and applies them to the in-memory
// index in batches; the final flush also records each touched publisher's
// state and may write a snapshot.
type batcher struct {
	x       *Index
	ops     []op
	touched map[string]bool
}

// op is one change: a document in, or (in nil) one out.
type op struct {
	id string
	in *docIn
}

func (x *Index) newBatcher() *batcher {
	return &batcher{x: x, touched: map[string]bool{}}
}

func (bt *batcher) flush(final bool) error {
	x := bt.x
	if len(bt.ops) > 0 {
		x.mem.mu.Lock()
		for _, o := range bt.ops {
			if o.in == nil {
				x.mem.delete(o.id)
			} else {
				x.mem.put(o.in)
			}
		}
		x.mem.mu.Unlock()
		bt.ops = bt.ops[:0]
	}
	if !final {
		return nil
	}
	// Sort the name order now rather than in the first query after.
	x.mem.mu.RLock()
	x.mem.sortOrder()
	x.mem.mu.RUnlock()
	x.mu.Lock()
	stats := map[string]replica.PublisherStat{}
	for _, ps := range x.cfg.Replica.Publishers() {
		stats[ps.Publisher] = ps
	}
	for p := range bt.touched {
		if st := x.state[p]; st != nil {
			ps := stats[p]
			st.Mark, st.MaxSeq, st.Live = ps.Mark, ps.MaxSeq, ps.Live
		}
	}
	if len(x.pending) == 0 {
		d := x.cfg.Replica.Digest()
		x.digest = d[:]
	} else {
		x.digest = nil
	}
	x.dirty = true
	due := x.cfg.Dir != "" && time.Since(x.saved) >= snapshotEvery
	x.mu.Unlock()
	if due {
		return x.save()
	}
	return nil
}

func (bt *batcher) maybeFlush() error {
	if len(bt.ops) >= bt.x.cfg.BatchSize {
		return bt.flush(false)
	}
	return nil
}

// index refreshes the given keys (or whole publishers) from the replica.
func (x *Index) index(ctx context.Context, work map[string]map[string]bool) error {
	bt := x.newBatcher()
	pubs := make([]string, 0, len(work))
	for p := range work {
		pubs = append(pubs, p)
	}
	slices.Sort(pubs)
	if whole := x.scanWorth(work); whole != nil {
		// Many whole publishers (the first start, a restart after a long
		// stop): one sequential scan of the replica reads their entries
		// far faster than a point read per entry, and with less garbage.
		if err := x.indexScan(ctx, bt, whole); err != nil {
			return err
		}
		// The scan and the first snapshot leave tens of MB of garbage:
		// give it back to the system rather than keep it as the node's
		// resident size until the heap grows into it again.
		defer debug.FreeOSMemory()
	}
	for _, p := range pubs {
		keys := work[p]
		bt.touched[p] = true
		if keys[""] {
			if err := x.indexPublisher(ctx, bt, p); err != nil {
				return err
			}
			continue
		}
		coop := x.coopName(p)
		for k := range keys {
			e, err := x.cfg.Replica.Get(ctx, p, schema.KindOffering, k)
			if err != nil || e.Tombstone {
				x.remove(bt, p, k)
			} else {
				x.add(bt, e, coop)
			}
			if err := bt.maybeFlush(); err != nil {
				return err
			}
		}
	}
	return bt.flush(true)
}

func (x *Index) coopName(publisher string) string {
	e, err := x.cfg.Replica.Get(context.Background(), publisher, schema.KindCoop, "profile")
	if err != nil || e.Tombstone {
		return ""
	}
	var p struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(e.Body, &p)
	return p.Name
}

// scanMin is how many live offerings of whole publishers make one scan of
// every offering in the replica cheaper than a point read for each of them.
const scanMin = 2000

// scanWorth returns the publishers of work to reindex whole, removing them
// from work, when they hold enough of the replica's offerings that one
// scan of all of them beats a point read per entry; nil otherwise.
func (x *Index) scanWorth(work map[string]map[string]bool) map[string]bool {
	whole := map[string]bool{}
	wholeLive, total := 0, 0
	for _, ps := range x.cfg.Replica.Publishers() {
		total += ps.Live
		if work[ps.Publisher][""] {
			whole[ps.Publisher] = true
			wholeLive += ps.Live
		}
	}
	if len(whole) < 2 || wholeLive < scanMin || wholeLive < total/4 {
		return nil
	}
	for p := range whole {
		delete(work, p)
	}
	return whole
}

// indexScan reindexes whole publishers from one scan of the replica's
// live offerings; what the index held of them and the scan did not see is
// removed (withdrawn while the node was down).
func (x *Index) indexScan(ctx context.Context, bt *batcher, pubs map[string]bool) error {
	coops := make(map[string]string, len(pubs))
	live := make(map[string]map[string]bool, len(pubs))
	for p := range pubs {
		coops[p] = x.coopName(p)
		live[p] = map[string]bool{}
		bt.touched[p] = true
	}
	err := x.cfg.Replica.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		if !pubs[e.Publisher] {
			return nil
		}
		live[e.Publisher][e.Key] = true
		x.add(bt, e, coops[e.Publisher])
		if err := bt.maybeFlush(); err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("reindex %d publishers: %w", len(pubs), err)
	}
	type gone struct{ p, k string }
	var out []gone
	x.mu.Lock()
	for p := range pubs {
		if st := x.state[p]; st != nil {
			for k := range st.Seqs {
				if !live[p][k] {
					out = append(out, gone{p, k})
				}
			}
			st.Coop = coops[p]
		}
	}
	x.mu.Unlock()
	for _, g := range out {
		x.remove(bt, g.p, g.k)
	}
	return nil
}

// indexPublisher reindexes every offering of a publisher (after a coop
// profile change, a qualification change, or at catch-up).
func (x *Index) indexPublisher(ctx context.Context, bt *batcher, p string) error {
	coop := x.coopName(p)
	live := map[string]bool{}
	err := x.cfg.Replica.Since(ctx, p, 0, func(e *schema.Entry) error {
		if e.Kind != schema.KindOffering {
			return nil
		}
		if e.Tombstone {
			x.remove(bt, p, e.Key)
		} else {
			live[e.Key] = true
			x.add(bt, e, coop)
		}
		return bt.maybeFlush()
	})
	if err != nil {
		return fmt.Errorf("reindex publisher %s: %w", p, err)
	}
	x.mu.Lock()
	var gone []string
	if st := x.state[p]; st != nil {
		for k := range st.Seqs {
			if !live[k] {
				gone = append(gone, k)
			}
		}
		st.Coop = coop
	}
	x.mu.Unlock()
	for _, k := range gone {
		x.remove(bt, p, k)
	}
	return nil
}

func docID(publisher, key string) string { return publisher + "/" + key }

func (x *Index) remove(bt *batcher, publisher, key string) {
	bt.ops = append(bt.ops, op{id: docID(publisher, key)})
	x.mu.Lock()
	defer x.mu.Unlock()
	if st := x.state[publisher]; st != nil {
		delete(st.Seqs, key)
		if len(st.Seqs) == 0 {
			delete(x.state, publisher)
		}
	}
}

func (x *Index) add(bt *batcher, e *schema.Entry, coop string) {
	var o schema.Offering
	if err := json.Unmarshal(e.Body, &o); err != nil {
		x.log.Warn("offering not indexed: undecodable body", "publisher", e.Publisher, "key", e.Key, "err", err)
		x.remove(bt, e.Publisher, e.Key)
		return
	}
	id := docID(e.Publisher, e.Key)
	x.mu.Lock()
	q := x.quals[e.Publisher]
	x.mu.Unlock()
	var qual *Qualification
	if q != nil {
		if auth, until, ok := q(o); ok {
			qual = &Qualification{Authority: auth, Until: until}
		}
	}
	bt.ops = append(bt.ops, op{id: id, in: x.document(e.Publisher, coop, o, qual)})
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.state[e.Publisher]
	if st == nil {
		st = &pubState{Seqs: map[string]uint64{}}
		x.state[e.Publisher] = st
	}
	st.Seqs[e.Key] = e.Seq
	st.Coop = coop
}

// document is the indexed form of an offering.
func (x *Index) document(publisher, coop string, o schema.Offering, q *Qualification) *docIn {
	all := []string{o.Name, o.Description, o.Eligibility.Description, o.Cost.Description, coop}
	cats := map[string]bool{}
	for _, code := range append([]string{o.Category}, o.Categories...) {
		for code != "" && !cats[code] {
			cats[code] = true
			t, ok := schema.Term(code)
			if !ok {
				break
			}
			all = append(all, t.NameIT)
			all = append(all, t.Keywords...)
			code = t.Parent
		}
	}
	for _, a := range o.Areas {
		if m, ok := schema.LookupMunicipality(a); ok {
			all = append(all, m.Name)
		}
	}
	in := &docIn{
		id:      docID(publisher, o.ID),
		nameKey: foldKey(o.Name),
		hsds:    schema.DerivedUUID("service", publisher, o.ID),
		all:     x.terms(strings.Join(all, "\n"), 0),
		name:    x.terms(o.Name, 0),
		qual:    q,
	}
	in.vals[ffCategory] = sortedKeys(cats)
	in.vals[ffPlace] = o.Areas
	in.vals[ffCost] = []string{string(o.Cost.Type)}
	in.vals[ffDelivery] = []string{string(o.Delivery)}
	in.vals[ffLang] = o.Languages
	in.vals[ffPublisher] = []string{publisher}
	return in
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// SetQualified sets (nil: removes) the qualifier of a publisher and
// reindexes its offerings; the change is searchable after Sync.
func (x *Index) SetQualified(publisher string, fn Qualifier) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if fn == nil {
		delete(x.quals, publisher)
	} else {
		x.quals[publisher] = fn
	}
	x.queueLocked(publisher, "")
}

// QualificationOf returns the qualification of one offering, if it has a
// valid one now.
func (x *Index) QualificationOf(publisher, key string) (Qualification, bool) {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	num, ok := x.mem.byID[docID(publisher, key)]
	if !ok {
		return Qualification{}, false
	}
	return x.mem.qualificationOf(num, x.cfg.Now())
}

func (m *mem) qualificationOf(num uint32, now time.Time) (Qualification, bool) {
	q := m.docs[num].qual
	if q == nil || (!q.Until.IsZero() && !now.Before(q.Until)) {
		return Qualification{}, false
	}
	return *q, true
}

// AnyQualified reports whether some offering holds a valid qualification:
// the "qualified only" filter is on by default once one does.
func (x *Index) AnyQualified() bool {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	valid, _, _ := x.mem.validQualified(x.cfg.Now())
	return !valid.IsEmpty()
}

// Count returns how many offerings the index holds.
func (x *Index) Count() (uint64, error) {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	return x.mem.live.GetCardinality(), nil
}

// Rebuild creates the index in cfg.Dir anew from the replica (the node
// stopped), calling progress (if not nil) after each batch with what is done
// of the total.
func Rebuild(ctx context.Context, cfg Config, progress func(done, total int)) error {
	if cfg.Dir != "" {
		if err := os.RemoveAll(cfg.Dir); err != nil {
			return fmt.Errorf("remove old search index: %w", err)
		}
	}
	x, err := open(cfg)
	if err != nil {
		return err
	}
	err = x.rebuild(ctx, progress)
	if cerr := x.Close(); err == nil {
		err = cerr
	}
	return err
}

// rebuild drops every document and indexes the replica's offerings again.
func (x *Index) rebuild(ctx context.Context, progress func(done, total int)) error {
	total := 0
	for _, ps := range x.cfg.Replica.Publishers() {
		total += ps.Live
	}
	// Start from nothing.
	bt := x.newBatcher()
	x.mu.Lock()
	for p := range x.state {
		bt.touched[p] = true
	}
	x.state = map[string]*pubState{}
	x.mu.Unlock()
	x.mem = newMem() // Rebuild runs alone: no query holds the old one
	coops := map[string]string{}
	done := 0
	err := x.cfg.Replica.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		coop, ok := coops[e.Publisher]
		if !ok {
			coop = x.coopName(e.Publisher)
			coops[e.Publisher] = coop
		}
		bt.touched[e.Publisher] = true
		x.add(bt, e, coop)
		done++
		if len(bt.ops) >= x.cfg.BatchSize {
			if err := bt.flush(false); err != nil {
				return err
			}
			if progress != nil {
				progress(done, max(total, done))
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	if err := bt.flush(true); err != nil {
		return err
	}
	if progress != nil {
		progress(done, done)
	}
	return nil
}

// Close stops following the replica and closes the index.
func (x *Index) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	x.wg.Wait()
	x.mu.Lock()
	dirty := x.dirty
	x.mu.Unlock()
	if dirty && x.cfg.Dir != "" {
		return x.save()
	}
	return nil
}

// QualifiedPublishers lists the publishers with an offering the index holds
// as qualified. After a restart the index still has the qualifications it
// saved: the node compares them with the ones it verifies now and clears
// (SetQualified(p, nil)) those revoked while it was down.
func (x *Index) QualifiedPublishers() []string {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	seen := map[string]bool{}
	it := x.mem.qual.Iterator()
	for it.HasNext() {
		pub, _, _ := strings.Cut(x.mem.docs[it.Next()].id, "/")
		seen[pub] = true
	}
	return slices.Sorted(maps.Keys(seen))
}
