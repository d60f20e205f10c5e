package catalogue

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// Listing is one offering of the federated catalogue as citizens see it.
type Listing struct {
	schema.Offering
	Publisher string    `json:"publisher"`
	CoopName  string    `json:"coop_name"`
	Seq       uint64    `json:"seq"`
	IssuedAt  time.Time `json:"issued_at"`
}

// item is what the catalogue keeps in memory of a listing: enough to order
// and page, not the whole body, so 100k offerings fit in a few MB.
type item struct {
	publisher, key string
	sortName       string
	seq            uint64
}

// Federated is the node's view of the whole federated catalogue, kept in
// step with the replica through its change notifications.
type Federated struct {
	rep *replica.Replica

	mu     sync.RWMutex
	items  map[string]item   // publisher + "\x00" + key; by value: no object per listing
	coops  map[string]string // publisher -> coop name
	pubs   map[string]string // one copy of each publisher's ID, shared by its items
	sorted []item            // nil when it must be rebuilt
	// tombs holds withdrawals seen while Load runs, so that Load does not
	// bring back an offering withdrawn after it was read.
	tombs map[string]uint64

	// cache holds decoded listings of recent reads; apply drops an entry
	// when its offering changes, and Get serves one only while its seq is
	// the seq in items. Lock order: mu before cache.mu.
	cache *listingCache
}

// NewFederated indexes what rep holds and follows its changes.
func NewFederated(ctx context.Context, rep *replica.Replica) (*Federated, error) {
	c, err := OpenFederated(ctx, rep)
	if err != nil {
		return nil, err
	}
	if err := c.Load(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenFederated reads the coop profiles rep holds and follows its changes,
// but leaves the offerings to Load: reading 100,000 of them takes seconds,
// which a node spends after it starts serving (Get works at once; Count
// and Page grow until Load returns).
func OpenFederated(ctx context.Context, rep *replica.Replica) (*Federated, error) {
	c := &Federated{rep: rep, items: map[string]item{}, coops: map[string]string{}, pubs: map[string]string{}, cache: newListingCache(cacheMaxItems, cacheMaxBytes)}
	rep.OnChange(func(_, cur *schema.Entry) { c.apply(cur) })
	if err := rep.Current(ctx, schema.KindCoop, func(e *schema.Entry) error { c.apply(e); return nil }); err != nil {
		return nil, fmt.Errorf("index catalogue: %w", err)
	}
	return c, nil
}

// Load reads every offering rep holds into the catalogue.
func (c *Federated) Load(ctx context.Context) error {
	c.mu.Lock()
	c.tombs = map[string]uint64{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.tombs = nil
		c.mu.Unlock()
	}()
	if err := c.rep.Current(ctx, schema.KindOffering, func(e *schema.Entry) error { c.apply(e); return ctx.Err() }); err != nil {
		return fmt.Errorf("index catalogue: %w", err)
	}
	return nil
}

func (c *Federated) apply(e *schema.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case schema.KindCoop:
		if e.Tombstone {
			delete(c.coops, e.Publisher)
			return
		}
		var p schema.CoopProfile
		if json.Unmarshal(e.Body, &p) == nil {
			c.coops[e.Publisher] = p.Name
		}
	case schema.KindOffering:
		id := e.Publisher + "\x00" + e.Key
		if old, ok := c.items[id]; ok && old.seq >= e.Seq {
			return
		}
		if seq, ok := c.tombs[id]; ok && seq >= e.Seq {
			return
		}
		if e.Tombstone {
			if c.tombs != nil {
				c.tombs[id] = e.Seq
			}
			delete(c.items, id)
			c.cache.drop(id)
			c.sorted = nil
			return
		}
		var o struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(e.Body, &o)
		if _, ok := c.items[id]; ok {
			c.cache.drop(id)
		}
		pub, ok := c.pubs[e.Publisher]
		if !ok {
			pub = e.Publisher
			c.pubs[pub] = pub
		}
		c.items[id] = item{publisher: pub, key: e.Key, sortName: strings.ToLower(o.Name), seq: e.Seq}
		c.sorted = nil
	}
}

// CoopName returns the name a publisher gives itself in its coop profile.
func (c *Federated) CoopName(publisher string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.coops[publisher]
}

// Coops returns every publisher's coop name.
func (c *Federated) Coops() map[string]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]string, len(c.coops))
	for k, v := range c.coops {
		out[k] = v
	}
	return out
}

// Count returns how many offerings the catalogue holds.
func (c *Federated) Count() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Page returns listings ordered by name, then publisher, then key.
func (c *Federated) Page(ctx context.Context, offset, limit int) (int, []Listing, error) {
	c.mu.Lock()
	if c.sorted == nil {
		c.sorted = make([]item, 0, len(c.items))
		for _, it := range c.items {
			c.sorted = append(c.sorted, it)
		}
		slices.SortFunc(c.sorted, func(a, b item) int {
			return cmp.Or(strings.Compare(a.sortName, b.sortName), strings.Compare(a.publisher, b.publisher), strings.Compare(a.key, b.key))
		})
	}
	total := len(c.sorted)
	var page []item
	if offset < total {
		page = slices.Clone(c.sorted[offset:min(total, offset+limit)])
	}
	c.mu.Unlock()
	out := make([]Listing, 0, len(page))
	for _, it := range page {
		l, err := c.Get(ctx, it.publisher, it.key)
		if err != nil {
			continue // withdrawn between the index read and this one
		}
		out = append(out, l)
	}
	return total, out, nil
}

// Get returns one listing. A listing read recently comes from the cache,
// as long as the catalogue has seen no newer entry for it; otherwise it is
// read from the replica and decoded.
func (c *Federated) Get(ctx context.Context, publisher, key string) (Listing, error) {
	id := publisher + "\x00" + key
	c.mu.RLock()
	it, known := c.items[id]
	var seq uint64
	if known {
		seq = it.seq
	}
	c.mu.RUnlock()
	if known {
		if l, ok := c.cache.get(id, seq); ok {
			l.CoopName = c.CoopName(publisher)
			return l, nil
		}
	}
	e, err := c.rep.Get(ctx, publisher, schema.KindOffering, key)
	if err != nil {
		return Listing{}, err
	}
	if e.Tombstone {
		return Listing{}, fmt.Errorf("offering %s of %s withdrawn", key, publisher)
	}
	var o schema.Offering
	if err := json.Unmarshal(e.Body, &o); err != nil {
		return Listing{}, fmt.Errorf("decode offering: %w", err)
	}
	l := Listing{Offering: o, Publisher: e.Publisher, CoopName: c.CoopName(e.Publisher), Seq: e.Seq, IssuedAt: e.IssuedAt}
	c.remember(id, e, l)
	return l, nil
}

// remember caches l only if e is still the entry the catalogue knows for
// id: holding mu keeps apply from replacing it (and dropping the cache
// entry) between the check and the put, so an older read that finishes
// after a newer apply is never cached.
func (c *Federated) remember(id string, e *schema.Entry, l Listing) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if it, ok := c.items[id]; ok && it.seq == e.Seq {
		c.cache.put(id, e.Seq, len(e.Body), l)
	}
}

// Publishers returns the publishers of the live offerings whose key is
// key (offering keys are UUIDs: one, in practice). It walks the index:
// a request names at most five offerings.
func (c *Federated) Publishers(key string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, it := range c.items {
		if it.key == key {
			out = append(out, it.publisher)
		}
	}
	return out
}
