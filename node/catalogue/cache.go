package catalogue

import (
	"container/list"
	"slices"
	"sync"
)

// listingCache keeps decoded listings of recently read offerings, so that a
// search page does not cost a store read and a JSON decode per result. It is
// bounded both in entries and in an estimate of the bytes they hold, and
// each entry remembers the sequence number it was decoded from: the
// catalogue serves it only while its in-memory item has that same seq.
type listingCache struct {
	mu       sync.Mutex
	maxItems int
	maxBytes int
	bytes    int
	order    *list.List // front = most recently used; values are *cachedListing
	byID     map[string]*list.Element
}

type cachedListing struct {
	id   string
	seq  uint64
	size int
	l    Listing // CoopName left empty: the coop may rename itself
}

// Bounds of the cache. It serves detail pages (a search's result cards come
// from the search index), so 1,024 listings of about 1 KB of JSON each,
// about 2.5 MB decoded, cover what people open; the byte bound also holds
// when bodies are larger. Every byte of it is live heap the collector scans.
const (
	cacheMaxItems = 1024
	cacheMaxBytes = 3 << 20
	// cacheEntryOverhead approximates what a decoded listing costs beyond
	// its JSON body (map entry, list element, slice headers, strings).
	cacheEntryOverhead = 512
)

func newListingCache(maxItems, maxBytes int) *listingCache {
	return &listingCache{maxItems: maxItems, maxBytes: maxBytes, order: list.New(), byID: map[string]*list.Element{}}
}

// get returns the cached listing of id if it was decoded from seq.
func (c *listingCache) get(id string, seq uint64) (Listing, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[id]
	if !ok {
		return Listing{}, false
	}
	cl := el.Value.(*cachedListing)
	if cl.seq != seq {
		c.removeLocked(el)
		return Listing{}, false
	}
	c.order.MoveToFront(el)
	return cloneListing(cl.l), true
}

// put stores l, decoded from a body of bodyLen bytes, and evicts the least
// recently used entries beyond the bounds.
func (c *listingCache) put(id string, seq uint64, bodyLen int, l Listing) {
	size := 2*bodyLen + cacheEntryOverhead
	if size > c.maxBytes {
		return
	}
	l.CoopName = ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		c.removeLocked(el)
	}
	c.byID[id] = c.order.PushFront(&cachedListing{id: id, seq: seq, size: size, l: cloneListing(l)})
	c.bytes += size
	for (len(c.byID) > c.maxItems || c.bytes > c.maxBytes) && c.order.Len() > 0 {
		c.removeLocked(c.order.Back())
	}
}

// drop forgets id, after an update or a withdrawal.
func (c *listingCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		c.removeLocked(el)
	}
}

func (c *listingCache) removeLocked(el *list.Element) {
	cl := c.order.Remove(el).(*cachedListing)
	delete(c.byID, cl.id)
	c.bytes -= cl.size
}

func (c *listingCache) len() (items, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID), c.bytes
}

// cloneListing copies the slices of l, so that a caller changing the
// listing it got cannot change what the cache serves next.
func cloneListing(l Listing) Listing {
	o := &l.Offering
	o.Categories = slices.Clone(o.Categories)
	o.Areas = slices.Clone(o.Areas)
	o.Languages = slices.Clone(o.Languages)
	o.Cost.Options = slices.Clone(o.Cost.Options)
	if o.Schedule.Weekly != nil {
		w := slices.Clone(o.Schedule.Weekly)
		for i := range w {
			w[i].Days = slices.Clone(w[i].Days)
		}
		o.Schedule.Weekly = w
	}
	return l
}
