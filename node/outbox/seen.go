package outbox

import (
	"context"
	"errors"
	"sync"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/node/store"
)

// Seen is the receiving side's record of the message ids it has handled,
// per sending peer, persisted: a message delivered again (its
// acknowledgement was lost, or a peer replays it) is recognised.
type Seen struct {
	d  store.Namespace
	mu sync.Mutex
}

// NewSeen keeps the ids under d.
func NewSeen(d store.Namespace) *Seen { return &Seen{d: d} }

func seenKey(from, id string) ds.Key { return ds.NewKey("/seen/" + from + "/" + id) }

// Handle runs fn for the message id from the peer from unless it was
// handled before, and records it once fn succeeded. It reports whether fn
// ran. Messages of one peer are handled one at a time.
func (s *Seen) Handle(ctx context.Context, from, id string, fn func() error) (bool, error) {
	return s.HandleTx(ctx, s.d, from, id, func(*store.Tx) error { return fn() })
}

// HandleTx is Handle with fn's writes and the record of the id in one
// transaction on root (the Seen's store or a namespace it is a store.Sub
// of), committed, synced, once fn succeeded: a message's effects and
// "handled" are durable together, in one write.
func (s *Seen) HandleTx(ctx context.Context, root store.Namespace, from, id string, fn func(*store.Tx) error) (bool, error) {
	if from == "" || id == "" {
		return false, errors.New("outbox: empty peer or id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ok, err := s.d.Has(ctx, seenKey(from, id))
	if err != nil {
		return false, err
	}
	if ok {
		return false, nil
	}
	tx, err := store.Begin(ctx, root)
	if err != nil {
		return false, err
	}
	defer tx.Abandon()
	if err := fn(tx); err != nil {
		return false, err
	}
	w, err := tx.Writer(s.d)
	if err != nil {
		return false, err
	}
	if err := w.Put(ctx, seenKey(from, id), []byte{1}); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)

}
