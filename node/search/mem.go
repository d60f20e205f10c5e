package search

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/difronte/difronte/federation/hashindex"
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

// doc is one indexed offering, held by value and without pointers, so
// the garbage collector does not scan the documents at all (strtab.go). Its
// id (publisher/key), its name and its name folded (foldKey) are idLen,
// cnLen and nkLen bytes of mem.text from toff. Its nv global facet value ids are in mem.fa from fat
// (kept in number order, so counting facets reads memory in sequence); its
// terms in mem.ta from tat: na term ids of every text, then nn of the name.
// An empty id is a free number.
type doc struct {
	toff                uint32
	idLen, cnLen, nkLen uint32
	name                uint32 // its name's number in mem.names
	hsds                uuid   // of the HSDS service
	fat, tat            uint32
	nv                  uint16
	na, nn              uint16
	card                cardDoc
}

// idOf returns the id of document n ("" for a free number).
func (m *mem) idOf(n uint32) string { return m.textOf(&m.docs[n], 0, m.docs[n].idLen) }

// cardName returns the name of d.
func (m *mem) cardName(d *doc) string { return m.textOf(d, d.idLen, d.cnLen) }

// nameKey returns the name of d folded: the exact-name rank and the sort
// order compare it.
func (m *mem) nameKey(d *doc) string { return m.textOf(d, d.idLen+d.cnLen, d.nkLen) }

// keyOfName returns the folded name of names[i], read from one of its
// documents.
func (m *mem) keyOfName(i uint32) string {
	p := m.names[i]
	n := p.one - 1
	if p.bits != 0 {
		n = m.bitmaps[p.bits-1].Minimum()
	}
	return m.nameKey(&m.docs[n])
}

func (m *mem) textOf(d *doc, off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&m.text[d.toff+off], int(n)) // text is written once (strTab.str)
}

// span packs where d's facet values are in fa: offset<<16 | count.
func span(d *doc) uint64 { return uint64(d.fat)<<16 | uint64(d.nv) }

func (m *mem) vals(d *doc) []uint32  { return m.fa[d.fat : d.fat+uint32(d.nv)] }
func (m *mem) allOf(d *doc) []uint32 { return m.ta[d.tat : d.tat+uint32(d.na)] }
func (m *mem) nameOf(d *doc) []uint32 {
	s := d.tat + uint32(d.na)
	return m.ta[s : s+uint32(d.nn)]
}

// docIn is a document on its way in: terms and values as strings, built
// outside the lock.
type docIn struct {
	id, nameKey, hsds string
	vals              [nFields][]string
	all, name         []string
	qual              *Qualification
	coop              string
	card              cardIn
}

// facetVal is one value of one facet, numbered in one space for all facets.
type facetVal struct {
	field field
	name  string
	bits  *roaring.Bitmap
}

// mem is the in-memory index: a dense number per offering, a bitmap of
// documents per text term and per facet value, and the name order. Filters
// and facet counts are bitmap intersections; text only decides which bitmaps.
type mem struct {
	mu sync.RWMutex

	docs        []doc    // by number
	spans       []uint64 // by number: where a document's facet values are in fa (span), for counting
	free        []uint32
	fa, ta      []uint32 // facet values and terms of the documents
	garbage     int      // entries of fa and ta of removed documents
	text        []byte   // the documents' ids and names (doc)
	textGarbage int      // bytes of text of removed documents
	byID        hashindex.Index
	quals       map[uint32]*Qualification // by number
	live        *roaring.Bitmap
	terms       strTab           // by term id
	byLen       map[int][]uint32 // rune length -> term ids, for typo expansion
	all         []posting        // term id -> docs with it anywhere
	name        []posting        // term id -> docs with it in the name
	names       []posting        // the documents of each folded name; empty: a free number
	nameIdx     hashindex.Index  // folded name -> its number in names (keyOfName)
	freeNames   []uint32
	bitmaps     []*roaring.Bitmap
	freeBitmaps []uint32        // numbers+1 of nil entries of bitmaps
	hsds        map[uuid]uint32 // no pointers: the collector does not scan it
	// byCategory holds, for each category value id, how many live
	// documents have it and each other value (by value id; shorter rows
	// end in zeros): the facet counts of a query that only filters by
	// that category, the funnel's first steps, kept as documents come and
	// go (facets.go).
	byCategory map[uint32][]int32
	// byTerm holds the same for each term id in termRowMin documents or
	// more, up to maxTermRows of them: the facet counts of a text query
	// are its result's difference from a term's row (termcounts.go).
	byTerm                                map[uint32][]int32
	termRowMin, maxTermRows, termRowBytes int // the constants but in tests
	fvals                                 []facetVal
	fids                                  [nFields]map[string]uint32 // value -> global value id
	// cols, rest and up count the facets of large results (columns.go):
	// by field and document number, the document's main value id+1 in
	// the field (0: none); by field, the documents having other values of it
	// too; the ancestors' value ids of each category value id a column
	// holds.
	cols     [nFields][]uint32
	rest     [nFields]*roaring.Bitmap
	up       map[uint32][]uint32
	qual     *roaring.Bitmap   // documents with a qualification (maybe expired)
	coops    map[string]string // publisher -> coop name, as its documents last said
	small    []string          // see smallID
	smallIDs map[string]uint8

	// order is every live number sorted by name, rank its inverse; both
	// are rebuilt on the first query after a change.
	order      []uint32
	rank       []uint32
	chunks     []*roaring.Bitmap // the numbers at each rankChunk positions of order (order.go)
	orderDirty bool

	gen uint64 // bumped at every change: caches of older generations are stale

	noResultCache bool // benchmarks measure the uncached path with it

	cache struct {
		sync.Mutex
		gen         uint64
		fuzzy       map[string]*roaring.Bitmap
		results     map[string]*result
		resultBytes int             // about what results holds (result.size)
		valid       *roaring.Bitmap // qualified and not expired
		bySize      *sizes          // facet value ids by field, largest first, and what intersecting them costs
		from        time.Time       // valid holds from..until
		until       time.Time
	}
}

func newMem() *mem {
	m := &mem{
		byID: hashindex.New(), quals: map[uint32]*Qualification{}, live: roaring.New(), terms: newStrTab(), byLen: map[int][]uint32{},
		nameIdx: hashindex.New(), hsds: map[uuid]uint32{}, qual: roaring.New(), byCategory: map[uint32][]int32{},
		byTerm: map[uint32][]int32{}, termRowMin: termRowMin, maxTermRows: maxTermRows, termRowBytes: termRowBytes,
		up:    map[uint32][]uint32{},
		coops: map[string]string{}, small: []string{""}, smallIDs: map[string]uint8{"": 0},
	}
	for i := range m.fids {
		m.fids[i] = map[string]uint32{}
		m.rest[i] = roaring.New()
	}
	return m
}

func (m *mem) fid(f field, v string) uint32 {
	if i, ok := m.fids[f][v]; ok {
		return i
	}
	i := uint32(len(m.fvals))
	m.fids[f][v] = i
	m.fvals = append(m.fvals, facetVal{field: f, name: v, bits: roaring.New()})
	return i
}

func (m *mem) term(t string) uint32 {
	i, added := m.terms.add(t)
	if added {
		n := utf8.RuneCountInString(t)
		m.byLen[n] = append(m.byLen[n], i)
		m.all = append(m.all, posting{})
		m.name = append(m.name, posting{})
	}
	return i
}

// addName adds document num, just put, to the documents of its folded
// name, numbering the name if new.
func (m *mem) addName(num uint32) {
	d := &m.docs[num]
	k := m.nameKey(d)
	i, ok := m.nameIdx.Get(k, m.keyOfName)
	if !ok {
		if n := len(m.freeNames); n > 0 {
			i, m.freeNames = m.freeNames[n-1], m.freeNames[:n-1]
		} else {
			i = uint32(len(m.names))
			m.names = append(m.names, posting{})
		}
	}
	d.name = i
	m.addTo(&m.names[i], num)
	if !ok {
		m.nameIdx.Put(k, i, m.keyOfName)
	}
}

// removeName takes document num, still whole, from its name's documents;
// a name left with none is forgotten and its number freed.
func (m *mem) removeName(num uint32) {
	d := &m.docs[num]
	p := &m.names[d.name]
	if last := p.one == num+1 || p.bits != 0 && m.bitmaps[p.bits-1].GetCardinality() == 1; last {
		m.nameIdx.Del(m.nameKey(d), m.keyOfName)
		m.freeNames = append(m.freeNames, d.name)
	}
	m.removeFrom(p, num)
}

// put adds or replaces a document. The caller holds mu.
func (m *mem) put(in *docIn) {
	if num, ok := m.byID.Get(in.id, m.idOf); ok {
		m.remove(num)
	}
	var num uint32
	if n := len(m.free); n > 0 {
		num, m.free = m.free[n-1], m.free[:n-1]
	} else {
		num = uint32(len(m.docs))
		m.docs = append(m.docs, doc{})
		m.spans = append(m.spans, 0)
		for f := range m.cols {
			m.cols[f] = append(m.cols[f], 0)
		}
	}
	if m.garbage > 1<<16 && m.garbage > (len(m.fa)+len(m.ta))/4 ||
		m.textGarbage > 1<<20 && m.textGarbage > len(m.text)/4 {
		m.compact()
	}
	d := doc{hsds: parseUUID(in.hsds), fat: uint32(len(m.fa)), tat: uint32(len(m.ta))}
	d.toff, d.idLen, d.cnLen, d.nkLen = uint32(len(m.text)), uint32(len(in.id)), uint32(len(in.card.Name)), uint32(len(in.nameKey))
	m.text = append(append(append(m.text, in.id...), in.card.Name...), in.nameKey...)
	for f := range nFields {
		for _, v := range in.vals[f] {
			i := m.fid(f, v)
			if !slices.Contains(m.fa[d.fat:], i) && len(m.fa)-int(d.fat) < 1<<16-1 {
				m.fa = append(m.fa, i)
				m.fvals[i].bits.Add(num)
			}
		}
	}
	d.nv = uint16(len(m.fa) - int(d.fat))
	m.countCategories(&d, 1)
	m.setCols(num, m.vals(&d))
	for _, t := range in.all[:min(len(in.all), 1<<16-1)] {
		i := m.term(t)
		m.ta = append(m.ta, i)
		m.addTo(&m.all[i], num)
	}
	d.na = uint16(min(len(in.all), 1<<16-1))
	for _, t := range in.name[:min(len(in.name), 1<<16-1)] {
		i := m.term(t)
		m.ta = append(m.ta, i)
		m.addTo(&m.name[i], num)
	}
	d.nn = uint16(min(len(in.name), 1<<16-1))
	if d.hsds != (uuid{}) {
		m.hsds[d.hsds] = num
	}
	if in.qual != nil {
		m.quals[num] = in.qual
		m.qual.Add(num)
	}
	d.card = m.cardDoc(&in.card)
	if pub, _, ok := strings.Cut(in.id, "/"); ok {
		m.coops[pub] = in.coop
	}
	m.docs[num] = d
	m.spans[num] = span(&d)
	m.byID.Put(in.id, num, m.idOf)
	m.addName(num)
	m.live.Add(num)
	m.countTerms(&m.docs[num], 1)
	m.changed()
}

// compact rewrites fa, ta and text in number order without the entries
// of removed documents. Strings handed out keep the old text.
func (m *mem) compact() {
	fa := make([]uint32, 0, len(m.fa))
	ta := make([]uint32, 0, len(m.ta))
	text := make([]byte, 0, len(m.text)-m.textGarbage)
	for n := range m.docs {
		d := &m.docs[n]
		if d.idLen == 0 {
			continue
		}
		fat, tat, toff := uint32(len(fa)), uint32(len(ta)), uint32(len(text))
		fa = append(fa, m.vals(d)...)
		ta = append(ta, m.ta[d.tat:d.tat+uint32(d.na)+uint32(d.nn)]...)
		text = append(text, m.text[d.toff:d.toff+d.idLen+d.cnLen+d.nkLen]...)
		d.fat, d.tat, d.toff = fat, tat, toff
		m.spans[n] = span(d)
	}
	m.fa, m.ta, m.garbage = fa, ta, 0
	m.text, m.textGarbage = text, 0
}

// delete removes a document if present. The caller holds mu.
func (m *mem) delete(id string) {
	if num, ok := m.byID.Get(id, m.idOf); ok {
		m.remove(num)
		m.changed()
	}
}

func (m *mem) remove(num uint32) {
	d := &m.docs[num]
	m.countCategories(d, -1)
	m.countTerms(d, -1)
	for _, i := range m.vals(d) {
		m.fvals[i].bits.Remove(num)
	}
	m.setCols(num, nil)
	for _, i := range m.allOf(d) {
		m.removeFrom(&m.all[i], num)
		if m.all[i].empty() {
			delete(m.byTerm, i)
		}
	}
	for _, i := range m.nameOf(d) {
		m.removeFrom(&m.name[i], num)
	}
	m.removeName(num)
	if m.hsds[d.hsds] == num {
		delete(m.hsds, d.hsds)
	}
	m.qual.Remove(num)
	delete(m.quals, num)
	m.live.Remove(num)
	m.byID.Del(m.idOf(num), m.idOf)
	m.garbage += int(d.nv) + int(d.na) + int(d.nn)
	m.textGarbage += int(d.idLen + d.cnLen + d.nkLen)
	m.docs[num] = doc{}
	m.spans[num] = 0
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
		// The previous order is sorted unless a number was reused with
		// another name: keep it, sort only the documents added since, and
		// merge the two, so queries while a large catalogue is being
		// indexed do not sort it whole after every batch.
		old := make([]uint32, 0, len(m.order))
		seen := roaring.New()
		for _, n := range m.order {
			if m.docs[n].idLen != 0 && !seen.Contains(n) {
				old = append(old, n)
				seen.Add(n)
			}
		}
		less := func(a, b uint32) int {
			return cmp.Or(cmp.Compare(m.nameKey(&m.docs[a]), m.nameKey(&m.docs[b])), cmp.Compare(m.idOf(a), m.idOf(b)))
		}
		added := roaring.AndNot(m.live, seen).ToArray()
		var order []uint32
		if slices.IsSortedFunc(old, less) {
			slices.SortFunc(added, less)
			order = mergeOrder(old, added, less)
		} else {
			order = append(old, added...)
			slices.SortFunc(order, less)
		}
		rank := make([]uint32, len(m.docs))
		for r, n := range order {
			rank[n] = uint32(r)
		}
		m.order, m.rank, m.orderDirty = order, rank, false
		m.chunkOrder()
	}
	m.mu.Unlock()
	m.mu.RLock()
}

// mergeOrder merges two sorted lists of document numbers.
func mergeOrder(a, b []uint32, cmp func(x, y uint32) int) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// validQualified returns the documents whose qualification holds at now,
// and the span of time in which that answer holds. The caller holds the
// read lock; the bitmap must not be changed.
func (m *mem) validQualified(now time.Time) (valid *roaring.Bitmap, from, until time.Time) {
	c := &m.cache
	c.Lock()
	defer c.Unlock()
	m.cacheGen()
	if c.valid != nil && !now.Before(c.from) && now.Before(c.until) {
		return c.valid, c.from, c.until
	}
	valid = m.qual.Clone()
	from, until = now, time.Unix(1<<40, 0)
	it := m.qual.Iterator()
	for it.HasNext() {
		n := it.Next()
		q := m.quals[n]
		if q.Until.IsZero() {
			continue
		}
		if !now.Before(q.Until) {
			valid.Remove(n)
		} else if q.Until.Before(until) {
			until = q.Until
		}
	}
	// Before now, an expiry between a past moment and now is unknown.
	c.valid, c.from, c.until = valid, from, until
	return valid, from, until
}

// cacheGen empties the caches if the index changed. c is locked.
func (m *mem) cacheGen() {
	c := &m.cache
	if c.gen != m.gen || c.fuzzy == nil {
		c.gen = m.gen
		c.fuzzy = map[string]*roaring.Bitmap{}
		c.results = map[string]*result{}
		c.resultBytes = 0
		c.valid = nil
		c.bySize = nil
	}
}

// maxFuzzyCache bounds the typo-expansion cache.
const maxFuzzyCache = 4096

// matching returns the documents having term t anywhere, or (fuzzy) a term
// at most one edit away. The caller holds the read lock; the result must
// not be changed.
func (m *mem) matching(t string, fuzzy bool) *roaring.Bitmap {
	if !fuzzy {
		if i, ok := m.terms.id(t); ok {
			return m.bitmap(m.all[i])
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
			if !m.all[i].empty() && within1(t, m.terms.str(i)) {
				bs = append(bs, m.bitmap(m.all[i]))
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
