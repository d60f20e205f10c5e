package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
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

// Federated is the node's view of the whole federated catalogue: the
// replica's offerings as listings, with their coops' names. It keeps no
// copy of the offerings: the replica's in-memory index says what is live
// and at which seq, the search index orders and finds them, and a small
// cache holds recently decoded listings.
type Federated struct {
	rep *replica.Replica

	mu    sync.RWMutex
	coops map[string]string // publisher -> coop name

	// cache holds decoded listings of recent reads; apply drops an entry
	// when its offering changes, and Get serves one only while its seq is
	// the replica's.
	cache *listingCache
}

// NewFederated reads the coop profiles rep holds and follows its changes.
func NewFederated(ctx context.Context, rep *replica.Replica) (*Federated, error) {
	c := &Federated{rep: rep, coops: map[string]string{}, cache: newListingCache(cacheMaxItems, cacheMaxBytes)}
	rep.OnChange(func(_, cur *schema.Entry) { c.apply(cur) })
	if err := rep.Current(ctx, schema.KindCoop, func(e *schema.Entry) error { c.apply(e); return nil }); err != nil {
		return nil, fmt.Errorf("index catalogue: %w", err)
	}
	return c, nil
}

func (c *Federated) apply(e *schema.Entry) {
	switch e.Kind {
	case schema.KindCoop:
		c.mu.Lock()
		defer c.mu.Unlock()
		if e.Tombstone {
			delete(c.coops, e.Publisher)
			return
		}
		var p schema.CoopProfile
		if json.Unmarshal(e.Body, &p) == nil {
			c.coops[e.Publisher] = p.Name
		}
	case schema.KindOffering:
		c.cache.drop(e.Publisher + "\x00" + e.Key)
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
func (c *Federated) Count() int { return c.rep.CountLive(schema.KindOffering) }

// Each calls fn with every listing, in no particular order, stopping at
// fn's first error. It reads the whole catalogue: for work that must see
// every offering, not for pages people wait for (the search index is).
func (c *Federated) Each(ctx context.Context, fn func(Listing) error) error {
	return c.rep.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		var o schema.Offering
		if err := json.Unmarshal(e.Body, &o); err != nil {
			return nil // not a listing anyone can read; the index skips it too
		}
		if err := fn(Listing{Offering: o, Publisher: e.Publisher, CoopName: c.CoopName(e.Publisher), Seq: e.Seq, IssuedAt: e.IssuedAt}); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// Get returns one listing. A listing read recently comes from the cache,
// as long as the catalogue has seen no newer entry for it; otherwise it is
// read from the replica and decoded.
func (c *Federated) Get(ctx context.Context, publisher, key string) (Listing, error) {
	id := publisher + "\x00" + key
	if seq, tomb, known := c.rep.Seq(publisher, schema.KindOffering, key); known && !tomb {
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

// remember caches l if e is still the replica's entry for id. An older
// read that loses a race with a newer entry may still be cached, but never
// served: Get serves an entry only while its seq is the replica's.
func (c *Federated) remember(id string, e *schema.Entry, l Listing) {
	if seq, _, ok := c.rep.Seq(e.Publisher, schema.KindOffering, e.Key); ok && seq == e.Seq {
		c.cache.put(id, e.Seq, len(e.Body), l)
	}
}

// Publishers returns the publishers of the live offerings whose key is
// key (offering keys are UUIDs: one, in practice).
func (c *Federated) Publishers(key string) []string {
	return c.rep.Holders(schema.KindOffering, key)
}
