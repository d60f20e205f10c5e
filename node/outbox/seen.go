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
	if err := fn(); err != nil {
		return false, err
	}
	return true, s.d.Put(ctx, seenKey(from, id), []byte{1})
}
