package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/keytransform"
	"github.com/ipfs/go-datastore/namespace"
)

// Sub is the part of the namespace parent under prefix, as
// namespace.Wrap makes it, remembering where it sits so that a Tx begun
// on parent can write into it (an outbox's queue beside the records that
// queue messages).
type Sub struct {
	Namespace
	parent Namespace
	prefix keytransform.PrefixTransform
}

// NewSub returns the part of parent under prefix.
func NewSub(parent Namespace, prefix string) *Sub {
	k := ds.NewKey(prefix)
	return &Sub{Namespace: namespace.Wrap(parent, k), parent: parent, prefix: namespace.PrefixTransform(k)}
}

// Tx gathers writes to collections and namespaces of one namespace (its
// root) and makes them durable together: one batch, one synced write
// instead of one per record. What the writes change in memory (a
// collection's copy, an outbox's queue) is applied only once the batch is
// durable, so a reader never sees what a crash could undo. Callers
// serialise their transactions on the records they touch.
type Tx struct {
	root  Namespace
	b     ds.Batch
	after []func(ok bool)
	done  bool
}

// ErrOtherStore is a write to a namespace the Tx does not span.
var ErrOtherStore = errors.New("store: namespace outside the transaction's root")

// Begin starts a transaction on d. Its root is the outermost namespace d
// is a Sub of: the transaction can write into d and into every namespace
// of that root (Writer).
func Begin(ctx context.Context, d Namespace) (*Tx, error) {
	root := d
	for s, ok := root.(*Sub); ok; s, ok = root.(*Sub) {
		root = s.parent
	}
	b, err := root.Batch(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin batch: %w", err)
	}
	return &Tx{root: root, b: b}, nil
}

// Writer is where to write d's keys in the transaction: d is the root or
// a Sub of it.
func (t *Tx) Writer(d Namespace) (ds.Write, error) {
	if d == t.root {
		return t.b, nil
	}
	if s, ok := d.(*Sub); ok {
		w, err := t.Writer(s.parent)
		if err != nil {
			return nil, err
		}
		return prefixed{w, s.prefix}, nil
	}
	return nil, ErrOtherStore
}

// Then runs fn once the transaction ends: with true after it is durable,
// with false when it was abandoned or failed. Functions run in the order
// they were added.
func (t *Tx) Then(fn func(ok bool)) { t.after = append(t.after, fn) }

// Commit writes everything, synced, then runs the Then functions.
func (t *Tx) Commit(ctx context.Context) error {
	if t.done {
		return errors.New("store: transaction already ended")
	}
	t.done = true
	err := t.b.Commit(ctx)
	for _, fn := range t.after {
		fn(err == nil)
	}
	return err
}

// Abandon drops the transaction unless it was committed; safe to defer.
func (t *Tx) Abandon() {
	if t.done {
		return
	}
	t.done = true
	if c, ok := t.b.(interface{ Cancel() error }); ok {
		_ = c.Cancel()
	}
	for _, fn := range t.after {
		fn(false)
	}
}

// prefixed writes keys into w as the Sub's own writes name them.
type prefixed struct {
	w      ds.Write
	prefix keytransform.PrefixTransform
}

func (p prefixed) Put(ctx context.Context, k Key, v []byte) error {
	return p.w.Put(ctx, p.prefix.ConvertKey(k), v)
}

func (p prefixed) Delete(ctx context.Context, k Key) error {
	return p.w.Delete(ctx, p.prefix.ConvertKey(k))
}

// PutTx writes the record within t; memory follows once t is durable.
// The collection must have been loaded from t's root or a Sub of it.
func (c *Collection[T]) PutTx(ctx context.Context, t *Tx, rec T) error {
	d, ok := c.ds.(Namespace)
	if !ok {
		return ErrOtherStore
	}
	w, err := t.Writer(d)
	if err != nil {
		return err
	}
	id := c.id(&rec)
	b, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("encode %s%s: %w", c.prefix, id, err)
	}
	if err := w.Put(ctx, ds.NewKey(c.prefix+id), b); err != nil {
		return err
	}
	kept := copyOf(&rec)
	t.Then(func(ok bool) {
		if ok {
			c.mu.Lock()
			c.remember(id, &kept)
			c.mu.Unlock()
		}
	})
	return nil
}
