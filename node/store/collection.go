package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	ds "github.com/ipfs/go-datastore"
)

// Collection keeps every record of one type in memory, written through to
// the datastore. A coop holds thousands of private records, not millions, so
// lists and reads never touch the disk; only writes do, synced.
type Collection[T any] struct {
	ds     ds.Datastore
	prefix string
	id     func(*T) string

	mu    sync.RWMutex
	items map[string]*T
	order []string // ids sorted for stable pagination
}

// LoadCollection reads every record under prefix into memory.
func LoadCollection[T any](ctx context.Context, d ds.Datastore, prefix string, id func(*T) string) (*Collection[T], error) {
	c := &Collection[T]{ds: d, prefix: prefix, id: id, items: map[string]*T{}}
	err := Each(ctx, d, prefix, func(k string, v []byte) error {
		t := new(T)
		if err := json.Unmarshal(v, t); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		c.items[id(t)] = t
		c.order = append(c.order, id(t))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(c.order)
	return c, nil
}

// Get returns a copy of the record.
func (c *Collection[T]) Get(id string) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.items[id]
	if !ok {
		var zero T
		return zero, false
	}
	return *t, true
}

// Put writes the record, synced, then updates memory.
func (c *Collection[T]) Put(ctx context.Context, t T) error {
	id := c.id(&t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := PutJSON(ctx, c.ds, c.prefix+id, &t); err != nil {
		return err
	}
	if _, ok := c.items[id]; !ok {
		i, _ := slices.BinarySearch(c.order, id)
		c.order = slices.Insert(c.order, i, id)
	}
	c.items[id] = &t
	return nil
}

// Filter returns copies of the records keep accepts, in id order.
func (c *Collection[T]) Filter(keep func(*T) bool) []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []T
	for _, id := range c.order {
		if t := c.items[id]; keep(t) {
			out = append(out, *t)
		}
	}
	return out
}

// Count returns the number of records.
func (c *Collection[T]) Count() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}
