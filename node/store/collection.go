package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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

	// Listing support (EnableListing): hide[i] says whether sorted[i] is
	// hidden (archived), in one contiguous slice so that a page without a
	// filter skips records without touching them; raw keeps each stored
	// listed record's JSON once encoded. Records are never modified in place
	// (Put stores a new pointer), so both stay valid for a pointer.
	hidden  func(*T) bool
	hide    []bool
	nhidden int
	raw     sync.Map // *T → []byte
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

// Loader loads a service's collections from one datastore and keeps the
// first error, so that a constructor reads as a list of collections.
type Loader struct {
	ctx context.Context
	d   ds.Datastore
	Err error // the first load that failed, as "load <name>: ..."
}

// NewLoader loads collections from d.
func NewLoader(ctx context.Context, d ds.Datastore) *Loader { return &Loader{ctx: ctx, d: d} }

// Load sets *dst to the collection under /name/, unless an earlier load
// failed.
func Load[T any](l *Loader, dst **Collection[T], name string, id func(*T) string) {
	if l.Err != nil {
		return
	}
	c, err := LoadCollection(l.ctx, l.d, "/"+name+"/", id)
	if err != nil {
		l.Err = fmt.Errorf("load %s: %w", name, err)
		return
	}
	*dst = c
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
	return copyOf(t), true
}

// Cloner is a record holding slices its users change in place (an
// element's state) before writing the record back: the copying reads of a
// Collection (Get, Filter, Page) return its Clone, not a shallow copy
// whose slices would still be the stored record's, and its writes (Put,
// PutTx) keep a Clone of what they wrote, so that memory never shows a
// change before the write that makes it durable, or one whose write
// failed, nor one its writer made after.
type Cloner[T any] interface{ Clone() T }

func copyOf[T any](t *T) T {
	if c, ok := any(t).(Cloner[T]); ok {
		return c.Clone()
	}
	return *t
}

// Put writes the record, synced, then updates memory.
func (c *Collection[T]) Put(ctx context.Context, t T) error {
	id := c.id(&t)
	b, err := json.Marshal(&t)
	if err != nil {
		return fmt.Errorf("encode %s%s: %w", c.prefix, id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ds.Put(ctx, ds.NewKey(c.prefix+id), b); err != nil {
		return err
	}
	kept := copyOf(&t)
	c.remember(id, &kept)
	return nil
}

// remember puts the stored record t in memory; c.mu is held.
func (c *Collection[T]) remember(id string, t *T) {
	i, found := slices.BinarySearchFunc(c.sorted, id, func(x *T, id string) int { return strings.Compare(c.id(x), id) })
	if found {
		c.raw.Delete(c.sorted[i])
		c.sorted[i] = t
	} else {
		c.sorted = slices.Insert(c.sorted, i, t)
	}
	c.items[id] = t
	if c.hidden != nil {
		h := c.hidden(t)
		if found {
			if c.hide[i] {
				c.nhidden--
			}
			c.hide[i] = h
		} else {
			c.hide = slices.Insert(c.hide, i, h)
		}
		if h {
			c.nhidden++
		}
	}
}

// EnableListing prepares the collection for List and JSON: hidden says
// which records (archived ones) a listing skips unless asked for them.
// Call it once, right after LoadCollection.
func (c *Collection[T]) EnableListing(hidden func(*T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hidden = hidden
	c.hide = make([]bool, len(c.sorted))
	c.nhidden = 0
	for i, t := range c.sorted {
		if c.hide[i] = hidden(t); c.hide[i] {
			c.nhidden++
		}
	}
}

// ListQuery selects a page of a listing.
type ListQuery[T any] struct {
	Hidden bool          // include hidden records
	Keep   func(*T) bool // nil: every record (no per-record work outside the page)
	Offset int
	Limit  int
}

// List returns how many records the query selects and the stored records
// from Offset up to Limit of them, in id order. The records are shared,
// not copied: callers must not modify them. Without Keep the total is
// known without a scan and the offset is found in the hidden flags alone,
// so a page of 50 out of 20,000 costs the page, not the collection.
// EnableListing must have been called.
func (c *Collection[T]) List(q ListQuery[T]) (total int, page []*T) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	offset, limit := max(q.Offset, 0), max(q.Limit, 0)
	if q.Keep != nil {
		for i, t := range c.sorted {
			if (!q.Hidden && c.hide[i]) || !q.Keep(t) {
				continue
			}
			if total >= offset && len(page) < limit {
				page = append(page, t)
			}
			total++
		}
		return total, page
	}
	if q.Hidden || c.nhidden == 0 {
		total = len(c.sorted)
		if offset < total {
			page = slices.Clone(c.sorted[offset:min(total, offset+limit)])
		}
		return total, page
	}
	total = len(c.sorted) - c.nhidden
	seen := 0
	for i, h := range c.hide {
		if h {
			continue
		}
		if seen >= offset {
			if len(page) == limit {
				break
			}
			page = append(page, c.sorted[i])
		}
		seen++
	}
	return total, page
}

// JSON returns the JSON encoding of a record List or Ptr returned, kept
// after the first call so that answering a listing repeats no encoding.
// Only records that were listed are kept: memory follows what users
// browse, not the collection's size.
// EnableListing must have been called.
func (c *Collection[T]) JSON(t *T) ([]byte, error) {
	if b, ok := c.raw.Load(t); ok {
		return b.([]byte), nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	if c.items[c.id(t)] == t { // not replaced meanwhile: Put would not drop it
		c.raw.Store(t, b)
	}
	c.mu.RUnlock()
	return b, nil
}

// RawPage is one page of a listing as JSON, {"total":N,"items":[...]},
// made of records' kept encodings (Collection.JSON).
type RawPage struct {
	Total int
	Items [][]byte
}

// AppendJSON appends the page's JSON to b.
func (p RawPage) AppendJSON(b []byte) []byte {
	b = append(b, `{"total":`...)
	b = strconv.AppendInt(b, int64(p.Total), 10)
	b = append(b, `,"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, "]}"...)
}

// MarshalJSON implements json.Marshaler.
func (p RawPage) MarshalJSON() ([]byte, error) {
	n := 40
	for _, it := range p.Items {
		n += len(it) + 1
	}
	return p.AppendJSON(make([]byte, 0, n)), nil
}

// Ptr returns the stored record itself, shared: callers must not modify it.
func (c *Collection[T]) Ptr(id string) (*T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.items[id]
	return t, ok
}

// Filter returns copies of the records keep accepts, in id order.
func (c *Collection[T]) Filter(keep func(*T) bool) []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []T
	for _, t := range c.sorted {
		if keep(t) {
			out = append(out, copyOf(t))
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
			page = append(page, copyOf(t))
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
