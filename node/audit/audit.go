package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/store"
)

// Action says what happened to the object.
type Action string

// Actions recorded in the log.
const (
	Read    Action = "read"
	List    Action = "list"
	Create  Action = "create"
	Update  Action = "update"
	Archive Action = "archive"
	Denied  Action = "denied"
	Login   Action = "login"
	Failed  Action = "login_failed"
	Logout  Action = "logout"
	Export  Action = "export"
)

// Event is one line of the audit log. Object is an opaque ID; Detail never
// holds personal data.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role,omitempty"`
	Action Action    `json:"action"`
	Kind   string    `json:"kind"`
	Object string    `json:"object,omitempty"`
	Remote string    `json:"remote,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// For is the citizen an operator acted for ("operator X for citizen
	// Y": Actor X, For Y); empty when the actor acted for itself.
	For  string `json:"for,omitempty"`
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// ErrBroken is returned by Verify when the chain does not hold.
var ErrBroken = errors.New("audit chain broken")

// Log is the audit log. Appends are group-committed by one writer goroutine:
// concurrent events share one synced datastore batch.
type Log struct {
	ds  store.Namespace
	clk clock.Clock
	log *slog.Logger

	in     chan pending
	done   chan struct{}
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex // guards seq and head: the writer's, or a RecordTx's until its transaction ends
	seq  uint64
	head string
}

type pending struct {
	ev   Event
	errc chan error // nil: the caller does not wait
}

const keyPrefix = "/e/"

var headKey = store.NewKey("/head")

func key(seq uint64) store.Key { return store.NewKey(fmt.Sprintf("%s%020d", keyPrefix, seq)) }

// forPrefix indexes the events recorded for a citizen (Event.For), so a
// citizen's own activity list does not scan the whole log.
const forPrefix = "/for/"

func forKey(citizen string, seq uint64) store.Key {
	return store.NewKey(fmt.Sprintf("%s%s/%020d", forPrefix, citizen, seq))
}

// Open loads the chain head from d and starts the writer.
func Open(ctx context.Context, d store.Namespace, clk clock.Clock, log *slog.Logger) (*Log, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{ds: d, clk: clock.Or(clk), log: log, in: make(chan pending, 1024), done: make(chan struct{}), closed: make(chan struct{})}
	// The head is stored beside the events, in the same batch, so opening
	// never scans the log (go-ds-badger cannot iterate in reverse).
	if raw, err := d.Get(ctx, headKey); err == nil {
		var h struct {
			Seq  uint64 `json:"seq"`
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("decode audit head: %w", err)
		}
		l.seq, l.head = h.Seq, h.Hash
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load audit head: %w", err)
	}
	go l.writer()
	return l, nil
}

// Record appends ev and waits until it is durable. Changes use it, so a
// change that was acknowledged is never missing from the log.
func (l *Log) Record(ctx context.Context, ev Event) error {
	noteDenial(ctx, ev)
	errc := make(chan error, 1)
	select {
	case l.in <- pending{ev: ev, errc: errc}:
	case <-l.closed:
		return errors.New("audit log closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Note appends ev without waiting for the disk. Reads use it so that an
// audited read costs no fsync on the request path; a crash can lose the
// last few milliseconds of read events, never a change.
func (l *Log) Note(ev Event) {
	select {
	case l.in <- pending{ev: ev}:
	case <-l.closed:
	}
}

func (l *Log) writer() {
	defer close(l.done)
	for {
		var batch []pending
		select {
		case p := <-l.in:
			batch = append(batch, p)
		case <-l.closed:
			// Drain what was queued before Close.
		drain:
			for {
				select {
				case p := <-l.in:
					batch = append(batch, p)
				default:
					break drain
				}
			}
			if len(batch) > 0 {
				l.commit(batch)
			}
			return
		}
	more:
		for len(batch) < 256 {
			select {
			case p := <-l.in:
				batch = append(batch, p)
			default:
				break more
			}
		}
		l.commit(batch)
	}
}

func (l *Log) commit(batch []pending) {
	ctx := context.Background()
	l.mu.Lock()
	seq, head := l.seq, l.head
	b, err := l.ds.Batch(ctx)
	for i := 0; err == nil && i < len(batch); i++ {
		seq, head, err = l.put(ctx, b, &batch[i].ev, seq, head)
	}
	if err == nil {
		if err = putHead(ctx, b, seq, head); err == nil {
			err = b.Commit(ctx)
		}
	}
	if err == nil {
		l.seq, l.head = seq, head
	} else {
		l.log.Error("audit commit failed", "component", "audit", "events", len(batch), "err", err)
	}
	l.mu.Unlock()
	for _, p := range batch {
		if p.errc != nil {
			p.errc <- err
		}
	}
}

// put writes ev into w as the event after seq, whose hash is head, and
// returns its own seq and hash. l.mu held.
func (l *Log) put(ctx context.Context, w ds.Write, ev *Event, seq uint64, head string) (uint64, string, error) {
	seq++
	ev.Seq = seq
	if ev.Time.IsZero() {
		ev.Time = l.clk.Now()
	}
	ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
	ev.Prev = head
	ev.Hash = hashEvent(ev)
	raw, err := json.Marshal(ev)
	if err != nil {
		return 0, "", fmt.Errorf("encode audit event: %w", err)
	}
	if err := w.Put(ctx, key(seq), raw); err != nil {
		return 0, "", err
	}
	if ev.For != "" {
		if err := w.Put(ctx, forKey(ev.For, seq), []byte(strconv.FormatUint(seq, 10))); err != nil {
			return 0, "", err
		}
	}
	return seq, ev.Hash, nil
}

// putHead writes the log's head, beside its last event.
func putHead(ctx context.Context, w ds.Write, seq uint64, head string) error {
	raw, _ := json.Marshal(map[string]any{"seq": seq, "hash": head})
	return w.Put(ctx, headKey, raw)
}

// RecordTx appends ev within tx: the event is durable in the same synced
// write as the change tx makes, or, if tx fails or is abandoned, not at
// all. A change that audits itself this way costs one fsync instead of
// two. The log's next link is taken until tx ends: every other event waits
// for it, so tx must end (Commit or Abandon) right after, and the caller
// must not wait for the log (Record) before then. tx must span the log's
// namespace (store.Begin on a namespace of the same store).
func (l *Log) RecordTx(ctx context.Context, tx *store.Tx, ev Event) error {
	w, err := tx.Writer(l.ds)
	if err != nil {
		return fmt.Errorf("audit within a transaction: %w", err)
	}
	noteDenial(ctx, ev)
	l.mu.Lock()
	seq, head, err := l.put(ctx, w, &ev, l.seq, l.head)
	if err == nil {
		err = putHead(ctx, w, seq, head)
	}
	if err != nil {
		l.mu.Unlock()
		return err
	}
	tx.Then(func(ok bool) {
		if ok {
			l.seq, l.head = seq, head
		}
		l.mu.Unlock()
	})
	return nil
}

// hashEvent is SHA-256 over the event's fields with Hash empty, in a fixed
// textual form independent of JSON field order.
func hashEvent(ev *Event) string {
	h := sha256.New()
	fields := []string{
		strconv.FormatUint(ev.Seq, 10), ev.Time.Format(time.RFC3339Nano), ev.Actor, ev.Role,
		string(ev.Action), ev.Kind, ev.Object, ev.Remote, ev.Detail, ev.Prev,
	}
	if ev.For != "" { // events without it keep the hash they always had
		fields = append(fields, "for", ev.For)
	}
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Close stops the writer after it has written everything queued. Idempotent.
func (l *Log) Close() error {
	l.once.Do(func() { close(l.closed) })
	<-l.done
	return nil
}

// Head returns the number of events and the hash of the last one.
func (l *Log) Head() (uint64, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.head
}

// Filter selects events for Query.
type Filter struct {
	Kind   string
	Object string
	Actor  string
	Before uint64 // only events with Seq < Before; 0 = from the newest
	Limit  int
}

// maxScan bounds how many events one Query reads while filtering.
const maxScan = 20000

// Query returns events newest first, reading back from the head.
func (l *Log) Query(ctx context.Context, f Filter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	seq, _ := l.Head()
	if f.Before > 0 && f.Before-1 < seq {
		seq = f.Before - 1
	}
	var out []Event
	for scanned := 0; seq > 0 && scanned < maxScan && len(out) < f.Limit; seq, scanned = seq-1, scanned+1 {
		raw, err := l.ds.Get(ctx, key(seq))
		if err != nil {
			return nil, fmt.Errorf("read audit event %d: %w", seq, err)
		}
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		if (f.Kind != "" && ev.Kind != f.Kind) || (f.Object != "" && ev.Object != f.Object) || (f.Actor != "" && ev.Actor != f.Actor) {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// ForCitizen returns the newest events recorded for citizen (Event.For),
// newest first, at most limit (default 100).
func (l *Log) ForCitizen(ctx context.Context, citizen string, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	if citizen == "" || strings.Contains(citizen, "/") {
		return nil, nil
	}
	var seqs []uint64
	err := store.Each(ctx, l.ds, forPrefix+citizen+"/", func(_ string, v []byte) error {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err == nil {
			seqs = append(seqs, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, min(limit, len(seqs)))
	for i := len(seqs) - 1; i >= 0 && len(out) < limit; i-- {
		raw, err := l.ds.Get(ctx, key(seqs[i]))
		if err != nil {
			return nil, fmt.Errorf("read audit event %d: %w", seqs[i], err)
		}
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		if ev.For == citizen {
			out = append(out, ev)
		}
	}
	return out, nil
}

// Verify walks the whole chain and returns the number of events checked, or
// ErrBroken with the first bad sequence number.
func (l *Log) Verify(ctx context.Context) (uint64, error) {
	var c Chain
	err := store.Each(ctx, l.ds, keyPrefix, c.Add)
	return c.n, err
}

// Chain checks stored events one after the other, in sequence order, as
// Verify does: for a reader that holds the log's records outside a Log
// (a backup being checked before it is restored). The zero value is an
// empty chain.
type Chain struct {
	n    uint64
	prev string
}

// IsEventKey reports whether key, relative to the log's namespace, holds
// an event (and not the head or anything else).
func IsEventKey(key string) bool { return strings.HasPrefix(key, keyPrefix) }

// Add checks the event stored at k (relative to the log's namespace)
// with value raw: the next sequence number, linked to the one before.
func (c *Chain) Add(k string, raw []byte) error {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("%w at %s: %v", ErrBroken, k, err)
	}
	c.n++
	if ev.Seq != c.n || ev.Prev != c.prev || hashEvent(&ev) != ev.Hash || k != key(c.n).String() {
		return fmt.Errorf("%w at event %d", ErrBroken, c.n)
	}
	c.prev = ev.Hash
	return nil
}

// Head returns the number of events checked and the hash of the last one.
func (c *Chain) Head() (uint64, string) { return c.n, c.prev }
