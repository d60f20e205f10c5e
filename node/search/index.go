package search

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// Config configures an index.
type Config struct {
	// Dir holds the index's snapshot; empty keeps it in memory only (tests).
	Dir     string
	Replica *replica.Replica
	Logger  *slog.Logger
	Clock   clock.Clock // default: the real clock
	// BatchSize bounds how many documents one commit carries (default 1000).
	BatchSize int
}

// Index is the search index of the federated catalogue.
type Index struct {
	cfg Config
	mem *mem
	ana analysis.Analyzer
	log *slog.Logger
	// shared holds the terms of texts many offerings share (sharedTerms),
	// nShared how many.
	shared  sync.Map
	nShared atomic.Int64

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
	Coop string `json:"coop,omitempty"`
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
	cfg.Clock = clock.Or(cfg.Clock)
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
			case <-clock.After(x.cfg.Clock, time.Second):
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

// Count returns how many offerings the index holds.
func (x *Index) Count() (uint64, error) {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	return x.mem.live.GetCardinality(), nil
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
