package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/store"
)

// Send delivers one message to the node to and returns when that node has
// acknowledged it. An error means "try again later"; a message the peer
// refuses for good is acknowledged by Send returning ErrRefused (it is
// dropped, not retried).
type Send func(ctx context.Context, to, id string, payload []byte) error

// ErrRefused is a message the destination refused for good: the outbox
// drops it and counts it.
var ErrRefused = errors.New("message refused by the destination")

// Defaults of Config.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// MaxPayload bounds one queued message.
	MaxPayload = 8 << 20
)

// Config configures an outbox.
type Config struct {
	Store  store.Namespace // the outbox's own namespace
	Clock  clock.Clock
	Send   Send
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between two attempts to
	// an unreachable peer (doubling from the first to the second).
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 30 s).
	Timeout time.Duration
}

// item is one queued message, as stored.
type item struct {
	Key     string `json:"-"`
	ID      string `json:"id"`
	To      string `json:"to"`
	Payload []byte `json:"payload"`
}

// queue is one destination's messages, in order, and its worker's state.
type queue struct {
	items   []item
	running bool
	wake    chan struct{}
	attempt int
}

// Stats are the outbox's counters (no peer, no payload).
type Stats struct {
	Queued, Delivered, Refused, Failed uint64
	Pending                            int
}

// Outbox is the queue of every destination.
type Outbox struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	seq    uint64
	queues map[string]*queue
	ids    map[string]bool // queued ids, for idempotent Enqueue
	closed bool

	queued, delivered, refused, failed atomic.Uint64
}

const queuePrefix = "/q/"

// Open loads the queued messages; Start sends them.
func Open(ctx context.Context, cfg Config) (*Outbox, error) {
	if cfg.Store == nil || cfg.Send == nil {
		return nil, errors.New("outbox: store and send are required")
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{cfg: cfg, log: cfg.Logger.With("component", "outbox"), queues: map[string]*queue{}, ids: map[string]bool{}}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	err := store.Each(ctx, cfg.Store, queuePrefix, func(k string, v []byte) error {
		var it item
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		it.Key = k
		var n uint64
		if i := strings.LastIndexByte(k, '/'); i >= 0 {
			_, _ = fmt.Sscanf(k[i+1:], "%020d", &n)
		}
		o.seq = max(o.seq, n)
		o.queue(it.To).items = append(o.queue(it.To).items, it)
		o.ids[it.ID] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load outbox: %w", err)
	}
	return o, nil
}

func (o *Outbox) queue(to string) *queue {
	q := o.queues[to]
	if q == nil {
		q = &queue{wake: make(chan struct{}, 1)}
		o.queues[to] = q
	}
	return q
}

// Start sends what was queued before the last stop.
func (o *Outbox) Start() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for to := range o.queues {
		o.runLocked(to)
	}
}

// Enqueue stores a message for to and returns once it is durable. A
// message whose id is already queued is not queued twice.
func (o *Outbox) Enqueue(ctx context.Context, to, id string, payload []byte) error {
	tx, err := store.Begin(ctx, o.cfg.Store)
	if err != nil {
		return err
	}
	defer tx.Abandon()
	if err := o.EnqueueTx(ctx, tx, to, id, payload); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// EnqueueTx queues a message for to within tx, whose root is the
// outbox's store or a namespace it is a store.Sub of: the message is
// durable with the records that caused it, in one synced write, and is
// sent as soon as tx commits (nothing is sent if tx fails). A message
// whose id is already queued is not queued twice.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *store.Tx, to, id string, payload []byte) error {
	it, err := o.prepare(ctx, tx, to, id, payload)
	if err != nil || it == nil {
		return err
	}
	tx.Then(func(ok bool) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if !ok {
			delete(o.ids, id)
			return
		}
		o.append(*it)
	})
	return nil
}

// prepare writes a message for to into tx and reserves its id; nil when
// the id is already queued.
func (o *Outbox) prepare(ctx context.Context, tx *store.Tx, to, id string, payload []byte) (*item, error) {
	if to == "" || id == "" || strings.ContainsAny(to+id, "/") {
		return nil, fmt.Errorf("outbox: bad destination or id")
	}
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("outbox: message of %d bytes, limit %d", len(payload), MaxPayload)
	}
	w, err := tx.Writer(o.cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, errors.New("outbox closed")
	}
	if o.ids[id] {
		return nil, nil
	}
	o.seq++
	it := item{Key: fmt.Sprintf("%s%s/%020d", queuePrefix, to, o.seq), ID: id, To: to, Payload: payload}
	b, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	if err := w.Put(ctx, ds.NewKey(it.Key), b); err != nil {
		return nil, fmt.Errorf("queue message: %w", err)
	}
	o.ids[id] = true // reserved until tx ends
	return &it, nil
}

// append queues it for sending and starts its destination's worker;
// o.mu is held.
func (o *Outbox) append(it item) {
	q := o.queue(it.To)
	q.items = append(q.items, it)
	o.queued.Add(1)
	o.runLocked(it.To)
}

// Wake tries to's queue now, as when that peer has just connected.
func (o *Outbox) Wake(to string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	q, ok := o.queues[to]
	if !ok || len(q.items) == 0 {
		return
	}
	q.attempt = 0
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Pending counts the messages queued for to ("" for all).
func (o *Outbox) Pending(to string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if to != "" {
		if q := o.queues[to]; q != nil {
			return len(q.items)
		}
		return 0
	}
	n := 0
	for _, q := range o.queues {
		n += len(q.items)
	}
	return n
}

// Stats returns the counters.
func (o *Outbox) Stats() Stats {
	return Stats{Queued: o.queued.Load(), Delivered: o.delivered.Load(), Refused: o.refused.Load(),
		Failed: o.failed.Load(), Pending: o.Pending("")}
}

// Close stops the workers; what is queued stays stored.
func (o *Outbox) Close() error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cancel()
	o.wg.Wait()
	return nil
}

// runLocked starts to's worker unless it runs.
func (o *Outbox) runLocked(to string) {
	q := o.queue(to)
	if q.running || o.closed || len(q.items) == 0 {
		return
	}
	q.running = true
	o.wg.Add(1)
	go o.work(to, q)
}

// work sends to's messages in order until the queue is empty.
func (o *Outbox) work(to string, q *queue) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(q.items) == 0 || o.ctx.Err() != nil {
			q.running = false
			o.mu.Unlock()
			return
		}
		it := q.items[0]
		o.mu.Unlock()
		ctx, cancel := context.WithTimeout(o.ctx, o.cfg.Timeout)
		err := o.cfg.Send(ctx, to, it.ID, it.Payload)
		cancel()
		if o.answered(to, it.ID, err) {
			o.done(q, it)
			continue
		}
		o.failed.Add(1)
		if !o.backoff(q) {
			o.mu.Lock()
			q.running = false
			o.mu.Unlock()
			return
		}
	}
}

// done removes the delivered head of q, from the store first.
func (o *Outbox) done(q *queue, it item) {
	if err := o.cfg.Store.Delete(context.Background(), ds.NewKey(it.Key)); err != nil {
		o.log.Error("cannot remove a delivered message", "id", it.ID, "err", err)
	}
	o.mu.Lock()
	q.items = q.items[1:]
	q.attempt = 0
	delete(o.ids, it.ID)
	o.mu.Unlock()
}

// backoff waits before the next attempt: MinBackoff doubled per failure
// up to MaxBackoff, cut short by Wake. It reports false on Close.
func (o *Outbox) backoff(q *queue) bool {
	o.mu.Lock()
	d := o.cfg.MinBackoff << min(q.attempt, 20)
	if d > o.cfg.MaxBackoff || d <= 0 {
		d = o.cfg.MaxBackoff
	}
	q.attempt++
	o.mu.Unlock()
	t := o.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-o.ctx.Done():
		return false
	case <-q.wake:
	case <-t.C():
	}
	return true
}

// SendNow delivers a message at once, without storing it, when nothing
// is queued for to: it reports true when to answered (delivered, or
// refused for good, counted as the worker counts them), false when the
// caller must queue it (EnqueueTx) because to has a backlog or did not
// answer within timeout. A message that arrived although its answer was
// lost is recognised by its id when the queued copy comes.
func (o *Outbox) SendNow(ctx context.Context, to, id string, payload []byte, timeout time.Duration) bool {
	o.mu.Lock()
	q, ok := o.queues[to]
	busy := o.closed || (ok && (len(q.items) > 0 || q.running))
	o.mu.Unlock()
	if busy {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	err := o.cfg.Send(ctx, to, id, payload)
	cancel()
	return o.answered(to, id, err)
}

// answered counts the outcome of one attempt to send id to to and
// reports whether to answered it: delivered (err nil) or refused for good
// (ErrRefused), so that it is not sent again.
func (o *Outbox) answered(to, id string, err error) bool {
	switch {
	case err == nil:
		o.delivered.Add(1)
	case errors.Is(err, ErrRefused):
		o.refused.Add(1)
		o.log.Warn("message refused by its destination", "peer", to, "id", id)
	default:
		return false
	}
	return true
}
