package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// How the index follows the replica: a batcher applies document changes in
// batches; index refreshes queued keys or whole publishers (with one scan of
// the replica when many are due); Rebuild indexes everything again.

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
		ps, ok := stats[p]
		switch st := x.state[p]; {
		case !ok:
			delete(x.state, p) // gone from the replica: nothing of it is indexed
		case st != nil:
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
	due := x.cfg.Dir != "" && clock.Since(x.cfg.Clock, x.saved) >= snapshotEvery
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
		defer bulkGC()()
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
	ad := x.newParallelAdder(bt, func(p string) string { return coops[p] }, nil)
	err := x.cfg.Replica.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		if !pubs[e.Publisher] {
			return nil
		}
		live[e.Publisher][e.Key] = true
		if err := ad.add(e); err != nil {
			return err
		}
		return ctx.Err()
	})
	if cerr := ad.close(); cerr != nil {
		err = cerr // the cause, where the scan saw errPutFailed
	}
	if err != nil {
		return fmt.Errorf("reindex %d publishers: %w", len(pubs), err)
	}
	for p := range pubs {
		x.dropUnseen(bt, p, live[p], coops[p])
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
	x.dropUnseen(bt, p, live, coop)
	return nil
}

// dropUnseen removes the offerings of publisher p the index holds and a
// reindex did not see live (withdrawn meanwhile), and records p's coop name.
func (x *Index) dropUnseen(bt *batcher, p string, live map[string]bool, coop string) {
	m := x.mem
	var gone []string
	m.mu.RLock()
	if i, ok := m.fids[ffPublisher][p]; ok {
		it := m.fvals[i].bits.Iterator()
		for it.HasNext() {
			if _, k, _ := strings.Cut(m.idOf(it.Next()), "/"); !live[k] {
				gone = append(gone, k)
			}
		}
	}
	m.mu.RUnlock()
	x.mu.Lock()
	if st := x.state[p]; st != nil {
		st.Coop = coop
	}
	x.mu.Unlock()
	for _, k := range gone {
		x.remove(bt, p, k)
	}
}

func docID(publisher, key string) string { return publisher + "/" + key }

func (x *Index) remove(bt *batcher, publisher, key string) {
	bt.ops = append(bt.ops, op{id: docID(publisher, key)})
}

func (x *Index) add(bt *batcher, e *schema.Entry, coop string) {
	x.addOps(bt, []*schema.Entry{e}, []op{x.docOp(e, coop)}, func(string) string { return coop })
}

// docOp decodes an offering entry and builds its document: the costly
// part of indexing (JSON and text analysis), safe to run on several
// goroutines at once. An undecodable body is a removal.
func (x *Index) docOp(e *schema.Entry, coop string) op {
	id := docID(e.Publisher, e.Key)
	var o schema.Offering
	if err := json.Unmarshal(e.Body, &o); err != nil {
		x.log.Warn("offering not indexed: undecodable body", "publisher", e.Publisher, "key", e.Key, "err", err)
		return op{id: id}
	}
	x.mu.Lock()
	q := x.quals[e.Publisher]
	x.mu.Unlock()
	var qual *Qualification
	if q != nil {
		if auth, until, ok := q(o); ok {
			qual = &Qualification{Authority: auth, Until: until}
		}
	}
	return op{id: id, in: x.document(e.Publisher, coop, o, qual)}
}

// addOps queues the documents built from es and records their publishers.
func (x *Index) addOps(bt *batcher, es []*schema.Entry, ops []op, coop func(string) string) {
	bt.ops = append(bt.ops, ops...)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range es {
		st := x.state[e.Publisher]
		if st == nil {
			st = &pubState{}
			x.state[e.Publisher] = st
		}
		st.Coop = coop(e.Publisher)
	}
}

// bulkGC lets the heap grow further between collections while a whole
// catalogue is indexed (the index is small at first, so the default
// percentage would collect every few MB); the soft memory limit still
// bounds it. It returns the function that restores the setting.
func bulkGC() func() {
	old := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(old) }
}

// parallelAdder builds the documents of a scan's entries on every core, a
// batch at a time, while the scan goes on reading the next batch and the
// previous batch is put into the index: three stages, so that the
// documents' building (JSON and text analysis, in parallel) does not wait
// for the index's lock, which takes one batch at a time.
type parallelAdder struct {
	x     *Index
	bt    *batcher
	coop  func(string) string
	batch []*schema.Entry
	built chan struct{} // closed when the batch being built is queued for its put; nil when none
	puts  chan builtBatch
	put   chan error  // the putter's first error, when it has put everything
	bad   atomic.Bool // the putter failed: the scan may stop
	after func(done int) error
	n     int // entries put so far (the putter's)
}

// builtBatch is a batch whose documents are built, waiting to be put.
type builtBatch struct {
	es  []*schema.Entry
	ops []op
}

func (x *Index) newParallelAdder(bt *batcher, coop func(string) string, after func(done int) error) *parallelAdder {
	a := &parallelAdder{x: x, bt: bt, coop: coop, after: after, puts: make(chan builtBatch, 1), put: make(chan error, 1)}
	go a.putter()
	return a
}

// putter puts the built batches into the index in order. After an error
// it drops the rest.
func (a *parallelAdder) putter() {
	var first error
	for b := range a.puts {
		if first != nil {
			continue
		}
		a.x.addOps(a.bt, b.es, b.ops, a.coop)
		first = a.bt.maybeFlush()
		a.n += len(b.es)
		if first == nil && a.after != nil {
			first = a.after(a.n)
		}
		a.bad.Store(first != nil)
	}
	a.put <- first
}

// errPutFailed stops a scan whose batches can no longer be put; close
// returns the cause.
var errPutFailed = errors.New("search index: a batch could not be put")

// add takes one entry of the scan.
func (a *parallelAdder) add(e *schema.Entry) error {
	if a.bad.Load() {
		return errPutFailed
	}
	a.batch = append(a.batch, e)
	if len(a.batch) < a.x.cfg.BatchSize {
		return nil
	}
	a.flush()
	return nil
}

// flush waits until the batch being built is built, then starts building
// this one.
func (a *parallelAdder) flush() {
	a.wait()
	if len(a.batch) == 0 {
		return
	}
	es := a.batch
	a.batch = nil
	ops := make([]op, len(es))
	built := make(chan struct{})
	a.built = built
	go func() {
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(es); i += workers {
					ops[i] = a.x.docOp(es[i], a.coop(es[i].Publisher))
				}
			}()
		}
		wg.Wait()
		a.puts <- builtBatch{es, ops}
		close(built)
	}()
}

// wait waits until the batch being built, if any, is built.
func (a *parallelAdder) wait() {
	if a.built != nil {
		<-a.built
		a.built = nil
	}
}

// close builds and puts what is left, and returns the putter's first
// error. The adder is not used after.
func (a *parallelAdder) close() error {
	if !a.bad.Load() {
		a.flush()
	}
	a.wait()
	close(a.puts)
	return <-a.put
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
	for _, ps := range x.cfg.Replica.Publishers() {
		coops[ps.Publisher] = x.coopName(ps.Publisher)
		bt.touched[ps.Publisher] = true
	}
	defer bulkGC()()
	ad := x.newParallelAdder(bt, func(p string) string { return coops[p] }, func(done int) error {
		if err := bt.flush(false); err != nil {
			return err
		}
		if progress != nil {
			progress(done, max(total, done))
		}
		return nil
	})
	err := x.cfg.Replica.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		if err := ad.add(e); err != nil {
			return err
		}
		return ctx.Err()
	})
	if cerr := ad.close(); cerr != nil {
		err = cerr // the cause, where the scan saw errPutFailed
	}
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	if err := bt.flush(true); err != nil {
		return err
	}
	if progress != nil {
		progress(ad.n, ad.n)
	}
	return nil
}
