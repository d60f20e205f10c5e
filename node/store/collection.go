package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

	mu     sync.RWMutex
	items  map[string]*T
	sorted []*T // the same records in id order, for stable pagination without map lookups
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
		c.sorted = append(c.sorted, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(c.sorted, func(a, b *T) int { return strings.Compare(id(a), id(b)) })
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
	i, found := slices.BinarySearchFunc(c.sorted, id, func(x *T, id string) int { return strings.Compare(c.id(x), id) })
	if found {
		c.sorted[i] = &t
	} else {
		c.sorted = slices.Insert(c.sorted, i, &t)
	}
	c.items[id] = &t
	return nil
}

// Filter returns copies of the records keep accepts, in id order.
func (c *Collection[T]) Filter(keep func(*T) bool) []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []T
	for _, t := range c.sorted {
		if keep(t) {
			out = append(out, *t)
		}
	}
	return out
}

// Page returns how many records keep accepts and copies of those from
// offset up to limit of them, in id order. Only the page is copied, so a
// page of 50 out of 20,000 records costs one pass over pointers, not
// 20,000 copies.
func (c *Collection[T]) Page(keep func(*T) bool, offset, limit int) (total int, page []T) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	page = make([]T, 0, max(0, min(limit, len(c.sorted)-offset)))
	for _, t := range c.sorted {
		if !keep(t) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, *t)
		}
		total++
	}
	return total, page
}

// Count returns the number of records.
func (c *Collection[T]) Count() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}
