package search

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/schema"
)

// Limits of a query: they keep every search cheap whatever a client sends.
const (
	MaxTextLen  = 200 // characters of free text
	MaxPerPage  = 100
	MaxPage     = 1000
	maxWords    = 12 // words of free text actually searched
	fuzzyMinLen = 4  // shorter words are matched exactly: "via" is not "vita"
)

// Query is one search of the catalogue. Empty fields do not filter.
type Query struct {
	Text          string
	Category      string // taxonomy code; a top category includes its subcategories
	Municipality  string // ISTAT code
	Price         string // "free" | "paid"
	Mode          string // "individual" | "shared"
	Lang          string // BCP 47 tag
	Publisher     string // peer ID
	QualifiedOnly bool
	Page          int // 1-based; 0 means 1
	PerPage       int // 0 means 20
	// AllFacets asks an Answer for every facet value the index lists,
	// not only those of the funnel's next step.
	AllFacets bool
}

// BadQueryError says which parameter of a query is wrong and why, in words
// a client can act on.
type BadQueryError struct {
	Field, Msg string
}

func (e *BadQueryError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks every parameter and returns the first problem.
func (q *Query) Validate() error {
	bad := func(f, format string, a ...any) error {
		return &BadQueryError{Field: f, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case !utf8.ValidString(q.Text):
		return bad("q", "is not valid UTF-8")
	case utf8.RuneCountInString(q.Text) > MaxTextLen:
		return bad("q", "is longer than %d characters", MaxTextLen)
	case q.Category != "" && !schema.KnownTerm(q.Category):
		return bad("category", "%q is not a category of the taxonomy", clip(q.Category))
	case q.Municipality != "" && !schema.ValidMunicipality(q.Municipality):
		return bad("municipality", "%q is not the ISTAT code of a municipality", clip(q.Municipality))
	case q.Price != "" && q.Price != string(schema.CostFree) && q.Price != string(schema.CostPaid):
		return bad("price", "must be free or paid")
	case q.Mode != "" && q.Mode != string(schema.DeliveryIndividual) && q.Mode != string(schema.DeliveryShared):
		return bad("mode", "must be individual or shared")
	case q.Lang != "" && !langLike(q.Lang):
		return bad("lang", "%q is not a language code", clip(q.Lang))
	case q.Publisher != "" && !peerIDLike(q.Publisher):
		return bad("publisher", "is not a peer ID")
	case q.Page < 0 || q.Page > MaxPage:
		return bad("page", "must be between 1 and %d", MaxPage)
	case q.PerPage < 0 || q.PerPage > MaxPerPage:
		return bad("per_page", "must be between 1 and %d", MaxPerPage)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func langLike(s string) bool {
	if len(s) < 2 || len(s) > 35 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func peerIDLike(s string) bool {
	if len(s) < 10 || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= '1' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') || r == 'I' || r == 'O' || r == 'l' {
			return false
		}
	}
	return true
}

// Hit is one result: the offering's address in the replica, and its
// qualification if it holds a valid one.
type Hit struct {
	Publisher string         `json:"publisher"`
	Key       string         `json:"key"`
	Score     float64        `json:"score"`
	Qualified *Qualification `json:"qualified,omitempty"`
}

// FacetValue is one value of a facet and how many results have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facet names of a Result; they are the query parameters they filter.
const (
	FacetCategory     = "category"
	FacetMunicipality = "municipality"
	FacetPrice        = "price"
	FacetMode         = "mode"
	FacetLang         = "lang"
	FacetPublisher    = "publisher"
	FacetQualified    = "qualified"
)

// Result is a page of hits with the total and the facet counts of every
// matching offering.
type Result struct {
	Total  int                     `json:"total"`
	Hits   []Hit                   `json:"hits"`
	Facets map[string][]FacetValue `json:"facets"`
	// Similar are partial matches, on the first page of a text search
	// with several words that found fewer than similarBelow results:
	// offerings having some of the words, those with more words first.
	Similar []Hit         `json:"similar,omitempty"`
	Took    time.Duration `json:"-"`

	// cards and similar are the result cards of Hits and Similar, from
	// the index, in their order.
	cards, similar []Card
}

// Search runs a query. It validates q first.
//
// Filters and facet counts are intersections of per-value bitmaps; free
// text selects, per word, the documents holding it (or, in words of
// fuzzyMinLen letters or more, a term one edit away). Text results rank in
// tiers, each in name order: the exact whole name, then every word exactly
// in the name, then every word exactly somewhere, then the rest (typos).
// Only the returned page is ever sorted.
func (x *Index) Search(ctx context.Context, q Query) (Result, error) { return x.search(ctx, q, nil) }

// search is Search building the page in b's arrays, or in new ones when
// b is nil.
func (x *Index) search(ctx context.Context, q Query, b *pageBuf) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	took := clock.Start()
	page, per := max(q.Page, 1), q.PerPage
	if per == 0 {
		per = 20
	}
	now := x.cfg.Clock.Now()
	text := words(q.Text)
	tokens := x.terms(text, maxWords)

	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	m.sortOrder()
	r := m.result(q, text, tokens, now)

	n := min(per, r.card)
	if b == nil {
		b = &pageBuf{}
	}
	// Grow keeps a nil slice nil; an empty page is still a list, not null.
	b.hits, b.cards, b.places = slices.Grow(b.hits[:0], max(n, 1)), slices.Grow(b.cards[:0], max(n, 1)), slices.Grow(b.places[:0], n*maxCardPlaces)
	b.quals = slices.Grow(b.quals[:0], n)
	out := Result{Total: r.card, Hits: b.hits, cards: b.cards, Facets: maps.Clone(r.facets)}
	pb := b.places
	off := (page - 1) * per
	for tier, c := range r.cards {
		if len(out.Hits) == per {
			break
		}
		if c == 0 {
			continue
		}
		if off >= c {
			off -= c
			continue
		}
		score := 0.0
		if len(tokens) > 0 {
			score = float64(4 - tier)
		}
		for _, n := range m.page(r.tier(tier), off, per-len(out.Hits)) {
			h, c := x.hit(n, score, now, b, &pb)
			out.Hits, out.cards = append(out.Hits, h), append(out.cards, c)
		}
		off = 0
	}
	if len(tokens) > 1 && r.card < similarBelow && page == 1 {
		for _, n := range m.similar(q, tokens, now, maxSimilar) {
			h, c := x.hit(n, 0, now, b, &pb)
			out.Similar, out.similar = append(out.Similar, h), append(out.similar, c)
		}
	}
	out.Took = took.Elapsed()
	return out, nil
}

// result is what a query finds, whatever the page: the matching documents
// split in rank tiers (one tier without text), their number and the facet
// counts. Results are cached until the index changes (or a qualification
// expires); none of it may be changed.
type result struct {
	tiers       [4]*roaring.Bitmap // each made when a page first reaches it, if not at once (tier)
	cards       [4]int             // of each tier
	card        int
	facets      map[string][]FacetValue
	from, until time.Time

	res *roaring.Bitmap // every match
	// of and less make a tier not made at once: its documents are those
	// of of[k] less those of every set of less[k]. once guards the making.
	of   [4]*roaring.Bitmap
	less [4][]*roaring.Bitmap
	once [4]sync.Once
}

// tier returns rank tier k of r's matches, nil if it is empty. A tier
// counted without being made (the last one, matches only through a typo,
// and those whose documents are a posting less an earlier tier) is made
// the first time a page needs it: most queries are answered by their
// first page, which the earlier tiers fill.
func (r *result) tier(k int) *roaring.Bitmap {
	if r.cards[k] == 0 {
		return nil
	}
	r.once[k].Do(func() {
		if r.tiers[k] != nil {
			return
		}
		b := r.of[k]
		for i, e := range r.less[k] {
			if i == 0 {
				b = roaring.AndNot(b, e) // of is shared: a copy
			} else {
				b.AndNot(e)
			}
		}
		r.tiers[k] = b
	})
	return r.tiers[k]
}

// andOf returns the intersection of sets (at least one). When the
// smallest is within every other, as the documents of words that always
// come together are ("dog sitter", "badante notte"), it is the
// intersection: it is returned itself, shared and read only, and nothing
// is allocated.
func andOf(sets []*roaring.Bitmap) (b *roaring.Bitmap, shared bool) {
	small := slices.MinFunc(sets, func(a, b *roaring.Bitmap) int { return cmp.Compare(a.GetCardinality(), b.GetCardinality()) })
	n := small.GetCardinality()
	for _, s := range sets {
		if s != small && small.AndCardinality(s) != n {
			return roaring.FastAnd(sets...), false
		}
	}
	return small, true
}

// splitTiers counts r's tiers from res, the matches of a text query, and
// makes those it can without a copy. Tiers are disjoint: tier k is res and
// its postings less the earlier tiers. An intersection of its own is made
// and the earlier tiers taken out of it in place. One that is a posting or
// res itself (andOf's shared case), which must not change, is only
// counted, when one set covers the earlier tiers: its size less its
// overlap with that set; a page that reaches it makes it (tier). The last
// tier, res less the earlier ones, is always made that way. So
// "assistenza domiciliare" (18,577 matches) copies no bitmap of them for
// a first page that its name tier fills. Read lock held.
func (m *mem) splitTiers(r *result, res *roaring.Bitmap, tokens []string, text string) {
	left := r.card
	var cover []*roaring.Bitmap // sets whose union is that of the earlier tiers
	for k, sets := range m.tierSets(tokens, text) {
		if sets == nil || left == 0 {
			continue
		}
		b, shared := andOf(append(sets, res))
		var c int
		switch {
		case shared && len(cover) <= 1:
			c = int(b.GetCardinality())
			if len(cover) == 1 {
				c -= int(b.AndCardinality(cover[0]))
			}
			r.of[k], r.less[k] = b, cover[:len(cover):len(cover)]
		case shared:
			b = roaring.AndNot(b, cover[0])
			for _, e := range cover[1:] {
				b.AndNot(e)
			}
			c, r.tiers[k] = int(b.GetCardinality()), b
		default:
			for _, e := range cover {
				b.AndNot(e)
			}
			c, r.tiers[k] = int(b.GetCardinality()), b
		}
		if c > 0 {
			r.cards[k] = c
			left -= c
			cover = append(cover, b) // a tier, or a set that covers it less the earlier ones
		} else {
			r.tiers[k], r.of[k], r.less[k] = nil, nil, nil
		}
	}
	r.cards[3] = left
	r.of[3], r.less[3] = res, cover
}

// maxResultCache bounds the result cache: the funnel's queries repeat
// (each category, each category in each municipality), so a few thousand
// cover what citizens click. maxResultBytes bounds what they hold: a
// result of a broad query keeps bitmaps and facet lists of tens of KB, and
// a cache of queries that never repeat (free text differs between
// citizens) must not grow the live heap the collector scans.
const (
	maxResultCache = 2048
	maxResultBytes = 8 << 20
)

// size is about how many bytes r holds.
func (r *result) size() int {
	n := 256
	for k, b := range r.tiers {
		switch {
		case b != nil:
			n += int(b.GetSizeInBytes())
		case r.cards[k] > 0 && len(r.less[k]) > 0:
			n += int(r.of[k].GetSizeInBytes()) // made later, at most this big
		}
	}
	if r.cards[3] > 0 {
		n += int(r.res.GetSizeInBytes()) // res, if it is a copy
	}
	for _, vs := range r.facets {
		n += 48 * len(vs)
	}
	return n
}

// result returns the cached result of a query or computes it. Read lock
// held.
func (m *mem) result(q Query, text string, tokens []string, now time.Time) *result {
	key := fmt.Sprintf("%q|%q|%s|%s|%s|%s|%s|%s|%t", strings.Join(tokens, " "), foldKey(text), q.Category, q.Municipality,
		q.Price, q.Mode, q.Lang, q.Publisher, q.QualifiedOnly)
	c := &m.cache
	c.Lock()
	m.cacheGen()
	r, ok := c.results[key]
	c.Unlock()
	if m.noResultCache {
		return m.compute(q, text, tokens, now)
	}
	if ok && !now.Before(r.from) && now.Before(r.until) {
		return r
	}
	r = m.compute(q, text, tokens, now)
	size := r.size()
	c.Lock()
	if c.gen == m.gen && size <= maxResultBytes/8 {
		if len(c.results) >= maxResultCache || c.resultBytes+size > maxResultBytes {
			clear(c.results)
			c.resultBytes = 0
		}
		c.results[key] = r
		c.resultBytes += size
	}
	c.Unlock()
	return r
}

func (m *mem) compute(q Query, text string, tokens []string, now time.Time) *result {
	sets, empty, valid, from, until := m.filters(q, now)
	for _, t := range tokens {
		sets = append(sets, m.matching(t, utf8.RuneCountInString(t) >= fuzzyMinLen))
	}
	var res *roaring.Bitmap
	switch {
	case empty:
		res = roaring.New()
	case len(sets) == 0:
		res = m.live // read only from here on: no copy
	case len(sets) == 1:
		res = sets[0] // read only from here on: no copy
	default:
		res, _ = andOf(sets) // read only from here on
	}
	card := int(res.GetCardinality())
	r := &result{card: card, facets: map[string][]FacetValue{}, from: from, until: until, res: res}
	if len(tokens) == 0 {
		r.tiers[0], r.cards[0] = res, card
	} else {
		m.splitTiers(r, res, tokens, text)
	}

	var counts []int
	if c, ok := m.fids[ffCategory][q.Category]; ok && len(tokens) == 0 && q.onlyCategory() {
		counts = m.categoryCounts(c)
	} else {
		counts = m.counts(res, card, m.termIDs(tokens))
	}
	r.facets = m.facetLists(counts)
	putCounts(counts)
	nq := int(res.AndCardinality(valid))
	r.facets[FacetQualified] = []FacetValue{{"true", nq}, {"false", card - nq}}
	return r
}

// onlyCategory reports whether q filters by its category and nothing else
// (its text aside).
func (q Query) onlyCategory() bool {
	return q.Category != "" && q.Municipality == "" && q.Price == "" && q.Mode == "" && q.Lang == "" && q.Publisher == "" && !q.QualifiedOnly
}

// filters returns the bitmaps of a query's filters (the qualified one
// included when asked for), whether one of them names a value no document
// has, and the documents qualified now with the span that answer holds.
// Read lock held; the bitmaps must not be changed.
func (m *mem) filters(q Query, now time.Time) (sets []*roaring.Bitmap, empty bool, valid *roaring.Bitmap, from, until time.Time) {
	filter := func(f field, v string) {
		if v == "" {
			return
		}
		i, ok := m.fids[f][v]
		if !ok {
			empty = true
			return
		}
		sets = append(sets, m.fvals[i].bits)
	}
	filter(ffCategory, q.Category)
	filter(ffPlace, q.Municipality)
	filter(ffCost, q.Price)
	filter(ffDelivery, q.Mode)
	filter(ffLang, q.Lang)
	filter(ffPublisher, q.Publisher)
	valid, from, until = m.validQualified(now)
	if q.QualifiedOnly {
		sets = append(sets, valid)
	}
	return sets, empty, valid, from, until
}

// tierSets returns, for the first three rank tiers of a text query, the
// postings a document of the tier must all be in: named exactly text,
// every word exactly in the name, every word exactly anywhere. A nil entry
// is a tier nothing can be in. Nothing is copied. Read lock held.
func (m *mem) tierSets(tokens []string, text string) [3][]*roaring.Bitmap {
	var t [3][]*roaring.Bitmap
	if k, ok := m.nameIdx.Get(foldKey(text), m.keyOfName); ok {
		t[0] = []*roaring.Bitmap{m.bitmap(m.names[k])}
	}
	inName, inAll := []*roaring.Bitmap{}, []*roaring.Bitmap{}
	for _, tok := range tokens {
		i, ok := m.terms.id(tok)
		if !ok || m.name[i].empty() {
			inName = nil
		} else if inName != nil {
			inName = append(inName, m.bitmap(m.name[i]))
		}
		if !ok || m.all[i].empty() {
			inAll = nil
		} else if inAll != nil {
			inAll = append(inAll, m.bitmap(m.all[i]))
		}
	}
	t[1], t[2] = inName, inAll
	return t
}

// hit returns document n's hit and result card, its qualification kept
// in b and the card's places taken from pb. Read lock held.
func (x *Index) hit(n uint32, score float64, now time.Time, b *pageBuf, pb *[]Place) (Hit, Card) {
	pub, key, _ := strings.Cut(x.mem.idOf(n), "/")
	h := Hit{Publisher: pub, Key: key, Score: score}
	if q, ok := x.mem.qualificationOf(n, now); ok {
		b.quals = append(b.quals, q) // past its room, a new array: the hits before keep the old one
		h.Qualified = &b.quals[len(b.quals)-1]
	}
	c := x.mem.card(n, pb)
	c.Qualified = h.Qualified
	return h, c
}

// words keeps the first maxWords words of s, collapsed to single spaces.
func words(s string) string {
	f := strings.Fields(s)
	if len(f) > maxWords {
		f = f[:maxWords]
	}
	return strings.Join(f, " ")
}

// LookupHSDS finds the offering whose HSDS service id is id.
func (x *Index) LookupHSDS(ctx context.Context, id string) (publisher, key string, ok bool) {
	if !schema.IsUUID(id) {
		return "", "", false
	}
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	n, ok := x.mem.hsds[parseUUID(id)]
	if !ok {
		return "", "", false
	}
	publisher, key, ok = strings.Cut(x.mem.idOf(n), "/")
	return publisher, key, ok
}
