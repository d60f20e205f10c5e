package search

import (
	"cmp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
)

// field is one facet (filter) field of an offering.
type field int

const (
	ffCategory  field = iota // every category code and its ancestors
	ffPlace                  // ISTAT codes
	ffCost                   // free | paid
	ffDelivery               // individual | shared
	ffLang                   // BCP 47 tags
	ffPublisher              // peer ID
	nFields
)

// facetNames are the facet names of a Result by field, with how many values
// a result lists (every category and cost type; the commonest places,
// languages and providers).
var facetNames = [nFields]struct {
	name string
	size int
}{
	{FacetCategory, 200}, {FacetMunicipality, 30}, {FacetPrice, 2}, {FacetMode, 2}, {FacetLang, 30}, {FacetPublisher, 30},
}

// doc is one indexed offering. A doc is never changed once in the index: an
// update replaces it.
type doc struct {
	id      string // publisher/key
	nameKey string // foldKey(name): exact-name rank and sort order
	hsds    string
	vals    [nFields][]uint32 // facet value ids
	all     []uint32          // term ids of every text
	name    []uint32          // term ids of the name
	qual    *Qualification
}

// docIn is a document on its way in: terms and values as strings, built
// outside the lock.
type docIn struct {
	id, nameKey, hsds string
	vals              [nFields][]string
	all, name         []string
	qual              *Qualification
}

// dict numbers the values of one facet and holds the documents having each.
type dict struct {
	ids   map[string]uint32
	names []string
	bits  []*roaring.Bitmap
}

func (d *dict) id(v string) uint32 {
	if i, ok := d.ids[v]; ok {
		return i
	}
	i := uint32(len(d.names))
	d.ids[v] = i
	d.names = append(d.names, v)
	d.bits = append(d.bits, roaring.New())
	return i
}

// mem is the in-memory index: a dense number per offering, a bitmap of
// documents per text term and per facet value, and the name order. Filters
// and facet counts are bitmap intersections; text only decides which bitmaps.
type mem struct {
	mu sync.RWMutex

	docs  []*doc // by number; nil: a free number
	free  []uint32
	byID  map[string]uint32
	live  *roaring.Bitmap
	words []string          // term id -> term
	terms map[string]uint32 // term -> id
	byLen map[int][]uint32  // rune length -> term ids, for typo expansion
	all   []*roaring.Bitmap // term id -> docs with it anywhere (nil: none)
	name  []*roaring.Bitmap // term id -> docs with it in the name
	names map[string]*roaring.Bitmap
	hsds  map[string]uint32
	facet [nFields]dict
	qual  *roaring.Bitmap // documents with a qualification (maybe expired)

	// order is every live number sorted by name, rank its inverse; both
	// are rebuilt on the first query after a change.
	order      []uint32
	rank       []uint32
	orderDirty bool

	gen uint64 // bumped at every change: caches of older generations are stale

	cache struct {
		sync.Mutex
		gen   uint64
		fuzzy map[string]*roaring.Bitmap
		valid *roaring.Bitmap // qualified and not expired
		from  time.Time       // valid holds from..until
		until time.Time
	}
}

func newMem() *mem {
	m := &mem{
		byID: map[string]uint32{}, live: roaring.New(), terms: map[string]uint32{}, byLen: map[int][]uint32{},
		names: map[string]*roaring.Bitmap{}, hsds: map[string]uint32{}, qual: roaring.New(),
	}
	for i := range m.facet {
		m.facet[i] = dict{ids: map[string]uint32{}}
	}
	return m
}

func (m *mem) term(t string) uint32 {
	if i, ok := m.terms[t]; ok {
		return i
	}
	i := uint32(len(m.words))
	m.terms[t] = i
	m.words = append(m.words, t)
	n := utf8.RuneCountInString(t)
	m.byLen[n] = append(m.byLen[n], i)
	m.all = append(m.all, nil)
	m.name = append(m.name, nil)
	return i
}

func addTo(bs []*roaring.Bitmap, i, num uint32) {
	if bs[i] == nil {
		bs[i] = roaring.New()
	}
	bs[i].Add(num)
}

// put adds or replaces a document. The caller holds mu.
func (m *mem) put(in *docIn) {
	if num, ok := m.byID[in.id]; ok {
		m.remove(num)
	}
	var num uint32
	if n := len(m.free); n > 0 {
		num, m.free = m.free[n-1], m.free[:n-1]
	} else {
		num = uint32(len(m.docs))
		m.docs = append(m.docs, nil)
	}
	d := &doc{id: in.id, nameKey: in.nameKey, hsds: in.hsds, qual: in.qual}
	for f := range nFields {
		d.vals[f] = make([]uint32, 0, len(in.vals[f]))
		for _, v := range in.vals[f] {
			i := m.facet[f].id(v)
			if !slices.Contains(d.vals[f], i) {
				d.vals[f] = append(d.vals[f], i)
				m.facet[f].bits[i].Add(num)
			}
		}
	}
	d.all = make([]uint32, 0, len(in.all))
	for _, t := range in.all {
		i := m.term(t)
		d.all = append(d.all, i)
		addTo(m.all, i, num)
	}
	d.name = make([]uint32, 0, len(in.name))
	for _, t := range in.name {
		i := m.term(t)
		d.name = append(d.name, i)
		addTo(m.name, i, num)
	}
	nb := m.names[d.nameKey]
	if nb == nil {
		nb = roaring.New()
		m.names[d.nameKey] = nb
	}
	nb.Add(num)
	if d.hsds != "" {
		m.hsds[d.hsds] = num
	}
	if d.qual != nil {
		m.qual.Add(num)
	}
	m.docs[num] = d
	m.byID[d.id] = num
	m.live.Add(num)
	m.changed()
}

// delete removes a document if present. The caller holds mu.
func (m *mem) delete(id string) {
	if num, ok := m.byID[id]; ok {
		m.remove(num)
		m.changed()
	}
}

func (m *mem) remove(num uint32) {
	d := m.docs[num]
	for f := range nFields {
		for _, i := range d.vals[f] {
			m.facet[f].bits[i].Remove(num)
		}
	}
	for _, i := range d.all {
		m.all[i].Remove(num)
	}
	for _, i := range d.name {
		m.name[i].Remove(num)
	}
	if nb := m.names[d.nameKey]; nb != nil {
		nb.Remove(num)
		if nb.IsEmpty() {
			delete(m.names, d.nameKey)
		}
	}
	if m.hsds[d.hsds] == num {
		delete(m.hsds, d.hsds)
	}
	m.qual.Remove(num)
	m.live.Remove(num)
	delete(m.byID, d.id)
	m.docs[num] = nil
	m.free = append(m.free, num)
}

func (m *mem) changed() {
	m.gen++
	m.orderDirty = true
}

// sortOrder rebuilds the name order if a change made it stale. Called with
// the read lock held, it returns with the read lock held.
func (m *mem) sortOrder() {
	if !m.orderDirty {
		return
	}
	m.mu.RUnlock()
	m.mu.Lock()
	if m.orderDirty {
		order := make([]uint32, 0, m.live.GetCardinality())
		// The previous order is nearly sorted: start from it so the sort
		// has little to do after a small change.
		seen := roaring.New()
		for _, n := range m.order {
			if m.docs[n] != nil && !seen.Contains(n) {
				order = append(order, n)
				seen.Add(n)
			}
		}
		it := roaring.AndNot(m.live, seen).Iterator()
		for it.HasNext() {
			order = append(order, it.Next())
		}
		slices.SortFunc(order, func(a, b uint32) int {
			da, db := m.docs[a], m.docs[b]
			return cmp.Or(cmp.Compare(da.nameKey, db.nameKey), cmp.Compare(da.id, db.id))
		})
		rank := make([]uint32, len(m.docs))
		for r, n := range order {
			rank[n] = uint32(r)
		}
		m.order, m.rank, m.orderDirty = order, rank, false
	}
	m.mu.Unlock()
	m.mu.RLock()
}

// page returns the numbers of b from off, at most n, in name order. The
// caller holds the read lock after sortOrder.
func (m *mem) page(b *roaring.Bitmap, off, n int) []uint32 {
	card := int(b.GetCardinality())
	if off >= card || n <= 0 {
		return nil
	}
	end := min(off+n, card)
	if card <= 4096 || card*8 < len(m.order) {
		// Few: sort them by rank.
		nums := b.ToArray()
		slices.SortFunc(nums, func(a, c uint32) int { return cmp.Compare(m.rank[a], m.rank[c]) })
		return nums[off:end]
	}
	// Many: walk the name order.
	out := make([]uint32, 0, end-off)
	skip := off
	for _, d := range m.order {
		if !b.Contains(d) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, d)
		if len(out) == end-off {
			break
		}
	}
	return out
}

// validQualified returns the documents whose qualification holds at now.
// The caller holds the read lock; the result must not be changed.
func (m *mem) validQualified(now time.Time) *roaring.Bitmap {
	c := &m.cache
	c.Lock()
	defer c.Unlock()
	m.cacheGen()
	if c.valid != nil && !now.Before(c.from) && now.Before(c.until) {
		return c.valid
	}
	valid := m.qual.Clone()
	until := time.Unix(1<<40, 0)
	it := m.qual.Iterator()
	for it.HasNext() {
		n := it.Next()
		q := m.docs[n].qual
		if q.Until.IsZero() {
			continue
		}
		if !now.Before(q.Until) {
			valid.Remove(n)
		} else if q.Until.Before(until) {
			until = q.Until
		}
	}
	c.valid, c.from, c.until = valid, now, until
	return valid
}

// cacheGen empties the caches if the index changed. c is locked.
func (m *mem) cacheGen() {
	c := &m.cache
	if c.gen != m.gen || c.fuzzy == nil {
		c.gen = m.gen
		c.fuzzy = map[string]*roaring.Bitmap{}
		c.valid = nil
	}
}

// maxFuzzyCache bounds the typo-expansion cache.
const maxFuzzyCache = 4096

// matching returns the documents having term t anywhere, or (fuzzy) a term
// at most one edit away. The caller holds the read lock; the result must
// not be changed.
func (m *mem) matching(t string, fuzzy bool) *roaring.Bitmap {
	if !fuzzy {
		if i, ok := m.terms[t]; ok && m.all[i] != nil {
			return m.all[i]
		}
		return roaring.New()
	}
	c := &m.cache
	c.Lock()
	m.cacheGen()
	b, ok := c.fuzzy[t]
	c.Unlock()
	if ok {
		return b
	}
	var bs []*roaring.Bitmap
	n := utf8.RuneCountInString(t)
	for l := n - 1; l <= n+1; l++ {
		for _, i := range m.byLen[l] {
			if m.all[i] != nil && within1(t, m.words[i]) {
				bs = append(bs, m.all[i])
			}
		}
	}
	b = roaring.FastOr(bs...)
	c.Lock()
	if c.gen == m.gen {
		if len(c.fuzzy) >= maxFuzzyCache {
			clear(c.fuzzy)
		}
		c.fuzzy[t] = b
	}
	c.Unlock()
	return b
}

// within1 reports whether a and b are at most one edit (insertion,
// deletion or substitution of a rune) apart.
func within1(a, b string) bool {
	// Skip the common prefix.
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			break
		}
		a, b = a[na:], b[nb:]
	}
	if a == "" || b == "" {
		return utf8.RuneCountInString(a)+utf8.RuneCountInString(b) <= 1
	}
	_, na := utf8.DecodeRuneInString(a)
	_, nb := utf8.DecodeRuneInString(b)
	return a[na:] == b[nb:] || a[na:] == b || a == b[nb:]
}

// counts returns the facet counts of the documents of b (card of them).
// The caller holds the read lock.
func (m *mem) counts(b *roaring.Bitmap, card int) [nFields][]int {
	var out [nFields][]int
	for f := range nFields {
		out[f] = make([]int, len(m.facet[f].names))
	}
	switch {
	case card == 0:
	case card == int(m.live.GetCardinality()):
		// Everything: the value bitmaps' own sizes.
		for f := range nFields {
			for i, vb := range m.facet[f].bits {
				out[f][i] = int(vb.GetCardinality())
			}
		}
	case card <= countByDocs:
		it := b.Iterator()
		for it.HasNext() {
			d := m.docs[it.Next()]
			for f := range nFields {
				for _, i := range d.vals[f] {
					out[f][i]++
				}
			}
		}
	default:
		for f := range nFields {
			for i, vb := range m.facet[f].bits {
				out[f][i] = int(b.AndCardinality(vb))
			}
		}
	}
	return out
}

// countByDocs is the result size up to which facets are counted by
// visiting each document rather than intersecting each value's bitmap.
const countByDocs = 8192
