package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

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
	// Dir holds the scorch index; empty keeps it in memory (tests).
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
	idx bleve.Index
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
	qualified map[string]Qualification // doc id -> its qualification
	closed    bool
}

// pubState is what the index holds of one publisher; it is stored in the
// index itself (bleve internal keys) in the same batch as the documents, so
// the two never disagree after a crash.
type pubState struct {
	Coop string            `json:"coop,omitempty"`
	Seqs map[string]uint64 `json:"seqs"` // offering key -> indexed seq
	// Stat is the replica's summary of the publisher when last indexed:
	// equal at restart means nothing of it changed.
	Mark, MaxSeq uint64
	Live         int
}

const (
	internalPubs   = "pubs"   // JSON list of publishers with state
	internalPub    = "pub/"   // + publisher: JSON pubState
	internalDigest = "digest" // replica digest at the last commit with nothing pending
)

// noExpiry is the qualified_until of a qualification without an end.
const noExpiry = 1e12

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
	x := &Index{
		cfg: cfg, log: cfg.Logger.With("component", "search"),
		wake: make(chan struct{}, 1), pending: map[string]map[string]bool{}, changed: make(chan struct{}),
		state: map[string]*pubState{}, quals: map[string]Qualifier{}, qualified: map[string]Qualification{},
	}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	idx, err := openBleve(cfg.Dir)
	if err != nil {
		return nil, err
	}
	x.idx = idx
	if err := x.loadState(); err != nil {
		idx.Close()
		return nil, err
	}
	return x, nil
}

// runtimeConfig tunes scorch for a small node: the persister waits a little
// to merge in-memory segments before writing them, which keeps the number
// of files (and the memory of their mmaps) low during a bulk load.
func runtimeConfig() map[string]any {
	return map[string]any{
		"scorchPersisterOptions": map[string]any{
			"PersisterNapTimeMSec":      50,
			"PersisterNapUnderNumFiles": 50,
		},
	}
}

func openBleve(dir string) (bleve.Index, error) {
	m, err := indexMapping()
	if err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	if dir == "" {
		// scorch without a path keeps segments in memory (the default
		// in-memory index type leaks iterator goroutines).
		idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
		if err != nil {
			return nil, fmt.Errorf("open memory search index: %w", err)
		}
		return idx, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err == nil {
		idx, err := bleve.OpenUsing(dir, runtimeConfig())
		if err != nil {
			return nil, fmt.Errorf("open search index %s: %w", dir, err)
		}
		return idx, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("create search index: %w", err)
	}
	idx, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, runtimeConfig())
	if err != nil {
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	return idx, nil
}

func (x *Index) loadState() error {
	b, err := x.idx.GetInternal([]byte(internalPubs))
	if err != nil {
		return fmt.Errorf("read search index state: %w", err)
	}
	if len(b) == 0 {
		return nil
	}
	var pubs []string
	if err := json.Unmarshal(b, &pubs); err != nil {
		return fmt.Errorf("read search index state: %w", err)
	}
	for _, p := range pubs {
		b, err := x.idx.GetInternal([]byte(internalPub + p))
		if err != nil || len(b) == 0 {
			continue // missing: catch-up reindexes that publisher
		}
		var st pubState
		if json.Unmarshal(b, &st) == nil {
			if st.Seqs == nil {
				st.Seqs = map[string]uint64{}
			}
			x.state[p] = &st
		}
	}
	return nil
}

// catchUp queues every publisher whose replica summary differs from what
// the index recorded, and publishers the replica no longer has.
func (x *Index) catchUp() error {
	d, err := x.idx.GetInternal([]byte(internalDigest))
	if err != nil {
		return fmt.Errorf("read search index digest: %w", err)
	}
	cur := x.cfg.Replica.Digest()
	if len(d) == 32 && [32]byte(d) == cur {
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
		return x.idx.SetInternal([]byte(internalDigest), cur[:])
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

// batcher collects documents and state into bleve batches.
type batcher struct {
	x       *Index
	b       *bleve.Batch
	touched map[string]bool
}

func (x *Index) newBatcher() *batcher {
	return &batcher{x: x, b: x.idx.NewBatch(), touched: map[string]bool{}}
}

func (bt *batcher) flush(final bool) error {
	if final {
		x := bt.x
		x.mu.Lock()
		pubs := make([]string, 0, len(x.state))
		for p := range x.state {
			pubs = append(pubs, p)
		}
		stats := map[string]replica.PublisherStat{}
		for _, ps := range x.cfg.Replica.Publishers() {
			stats[ps.Publisher] = ps
		}
		for p := range bt.touched {
			st := x.state[p]
			if st == nil {
				bt.b.DeleteInternal([]byte(internalPub + p))
				continue
			}
			ps := stats[p]
			st.Mark, st.MaxSeq, st.Live = ps.Mark, ps.MaxSeq, ps.Live
			b, _ := json.Marshal(st)
			bt.b.SetInternal([]byte(internalPub+p), b)
		}
		idle := len(x.pending) == 0
		x.mu.Unlock()
		slices.Sort(pubs)
		b, _ := json.Marshal(pubs)
		bt.b.SetInternal([]byte(internalPubs), b)
		if idle {
			d := x.cfg.Replica.Digest()
			bt.b.SetInternal([]byte(internalDigest), d[:])
		} else {
			bt.b.DeleteInternal([]byte(internalDigest))
		}
	}
	if bt.b.Size() == 0 {
		return nil
	}
	if err := bt.x.idx.Batch(bt.b); err != nil {
		return fmt.Errorf("commit search batch: %w", err)
	}
	bt.b.Reset()
	return nil
}

func (bt *batcher) maybeFlush() error {
	if bt.b.Size() >= bt.x.cfg.BatchSize {
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
	bt.b.Delete(docID(publisher, key))
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.qualified, docID(publisher, key))
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
	if err := bt.b.Index(id, document(e.Publisher, coop, o, qual)); err != nil {
		x.log.Warn("offering not indexed", "publisher", e.Publisher, "key", e.Key, "err", err)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.state[e.Publisher]
	if st == nil {
		st = &pubState{Seqs: map[string]uint64{}}
		x.state[e.Publisher] = st
	}
	st.Seqs[e.Key] = e.Seq
	st.Coop = coop
	if qual != nil {
		x.qualified[id] = *qual
	} else {
		delete(x.qualified, id)
	}
}

// document is the indexed form of an offering.
func document(publisher, coop string, o schema.Offering, q *Qualification) map[string]any {
	var all []string
	all = append(all, o.Name, o.Description, o.Eligibility.Description, o.Cost.Description, coop)
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
	until := 0.0
	if q != nil {
		until = noExpiry
		if !q.Until.IsZero() {
			until = float64(q.Until.Unix())
		}
	}
	return map[string]any{
		fName:      o.Name,
		fAll:       strings.Join(all, "\n"),
		fNameKey:   foldKey(o.Name),
		fCategory:  sortedKeys(cats),
		fPlace:     o.Areas,
		fCost:      string(o.Cost.Type),
		fDelivery:  string(o.Delivery),
		fLang:      o.Languages,
		fPublisher: publisher,
		fQualUntil: until,
		fHSDS:      schema.DerivedUUID("service", publisher, o.ID),
	}
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
	x.mu.Lock()
	q, ok := x.qualified[docID(publisher, key)]
	x.mu.Unlock()
	if !ok || (!q.Until.IsZero() && !x.cfg.Now().Before(q.Until)) {
		return Qualification{}, false
	}
	return q, true
}

// AnyQualified reports whether some offering holds a valid qualification:
// the "qualified only" filter is on by default once one does.
func (x *Index) AnyQualified() bool {
	now := x.cfg.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, q := range x.qualified {
		if q.Until.IsZero() || now.Before(q.Until) {
			return true
		}
	}
	return false
}

// Count returns how many offerings the index holds.
func (x *Index) Count() (uint64, error) { return x.idx.DocCount() }

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
	// Remove what the index holds first.
	bt := x.newBatcher()
	x.mu.Lock()
	var ids []string
	for p, st := range x.state {
		for k := range st.Seqs {
			ids = append(ids, docID(p, k))
		}
		bt.touched[p] = true
	}
	x.state = map[string]*pubState{}
	x.qualified = map[string]Qualification{}
	x.mu.Unlock()
	for _, id := range ids {
		bt.b.Delete(id)
		if err := bt.maybeFlush(); err != nil {
			return err
		}
	}
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
		if bt.b.Size() >= x.cfg.BatchSize {
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
	return x.idx.Close()
}
