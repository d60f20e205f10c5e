package search

import (
	"cmp"
	"strings"
	"sync"

	"github.com/difronte/difronte/schema"
)

// Card is one result of a catalogue search as a results page shows it:
// what to recognise and choose an offering by. The whole offering is the
// detail's (the listing, or HSDS's /hsds/services/{id}).
type Card struct {
	ID        string `json:"id"`
	Publisher string `json:"publisher"`
	CoopName  string `json:"coop_name"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Delivery  string `json:"delivery"`
	Price     Price  `json:"price"`
	// Municipalities are the first maxCardPlaces areas served, named;
	// MunicipalitiesTotal counts them all.
	Municipalities      []Place        `json:"municipalities"`
	MunicipalitiesTotal int            `json:"municipalities_total"`
	Qualified           *Qualification `json:"qualified"`
}

// Price is an offering's price in short: free, or the first cost option.
type Price struct {
	Type        string `json:"type"`
	AmountCents int64  `json:"amount_cents,omitempty"`
	Currency    string `json:"currency,omitempty"`
	Unit        string `json:"unit,omitempty"`
}

// Place is a municipality, by ISTAT code and name.
type Place struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// maxCardPlaces is how many municipalities a card names: a results page
// shows three and an ellipsis.
const maxCardPlaces = 3

// cardIn is what a result card shows of an offering, on its way into the
// index (and in its snapshot): the index answers a page of results with no
// store read.
type cardIn struct {
	Name, Category, Cost, Delivery string
	Currency, Unit                 string
	Amount                         int64
	Places                         []string // the first maxCardPlaces areas
	NPlaces                        int
}

func cardInOf(o *schema.Offering) cardIn {
	c := cardIn{Name: o.Name, Category: o.Category, Cost: string(o.Cost.Type), Delivery: string(o.Delivery),
		Places: o.Areas[:min(len(o.Areas), maxCardPlaces):min(len(o.Areas), maxCardPlaces)], NPlaces: len(o.Areas)}
	if o.Cost.Type != schema.CostFree && len(o.Cost.Options) > 0 {
		op := o.Cost.Options[0]
		c.Amount, c.Currency, c.Unit = op.AmountCents, op.Currency, string(op.Unit)
	}
	return c
}

// cardDoc is cardIn as a document holds it: strings of few values as
// numbers (facet value ids, or mem.small for currency and unit).
type cardDoc struct {
	amount           int64
	cat, cost, deliv uint32 // facet value ids; noVal: none
	places           [maxCardPlaces]uint32
	nplaces          uint16
	currency, unit   uint8
}

// noVal is a facet value id that names no value.
const noVal = ^uint32(0)

// cardDoc turns c into its held form. The caller holds mu.
func (m *mem) cardDoc(c *cardIn) cardDoc {
	d := cardDoc{amount: c.Amount, cat: noVal, cost: m.fid(ffCost, c.Cost), deliv: m.fid(ffDelivery, c.Delivery),
		nplaces: uint16(min(c.NPlaces, 1<<16-1)), currency: m.smallID(c.Currency), unit: m.smallID(c.Unit)}
	if c.Category != "" {
		d.cat = m.fid(ffCategory, c.Category)
	}
	for i := range d.places {
		d.places[i] = noVal
		if i < len(c.Places) {
			d.places[i] = m.fid(ffPlace, c.Places[i])
		}
	}
	return d
}

// cardIn is the inverse of cardDoc, with doc's name (for the snapshot).
// Read lock held.
func (m *mem) cardIn(dd *doc) cardIn {
	d := &dd.card
	c := cardIn{Name: m.cardName(dd), Amount: d.amount, Category: m.valName(d.cat), Cost: m.valName(d.cost), Delivery: m.valName(d.deliv),
		NPlaces: int(d.nplaces), Currency: m.small[d.currency], Unit: m.small[d.unit]}
	for _, p := range d.places {
		if p != noVal {
			c.Places = append(c.Places, m.fvals[p].name)
		}
	}
	return c
}

func (m *mem) valName(i uint32) string {
	if i == noVal {
		return ""
	}
	return m.fvals[i].name
}

// smallID numbers a string of a small set (currencies, units); past 255 of
// them, further ones are not kept.
func (m *mem) smallID(s string) uint8 {
	if i, ok := m.smallIDs[s]; ok {
		return i
	}
	if len(m.small) > 255 {
		return 0
	}
	i := uint8(len(m.small))
	m.smallIDs[s] = i
	m.small = append(m.small, s)
	return i
}

// newPlaces returns room for the places of n cards: a page's cards share
// one array instead of one each.
func newPlaces(n int) []Place { return make([]Place, 0, n*maxCardPlaces) }

// card is the result card of document n, without its qualification (the
// caller's); its places are taken from pb (newPlaces), or allocated when
// pb has no room left. Read lock held.
func (m *mem) card(n uint32, pb *[]Place) Card {
	d := &m.docs[n]
	pub, key, _ := strings.Cut(m.idOf(n), "/")
	cd := &d.card
	c := Card{ID: key, Publisher: pub, CoopName: m.coops[pub], Name: m.cardName(d), Category: m.valName(cd.cat), Delivery: m.valName(cd.deliv),
		Price: Price{Type: m.valName(cd.cost)}, MunicipalitiesTotal: int(cd.nplaces)}
	if cap(*pb)-len(*pb) < maxCardPlaces {
		*pb = newPlaces(1)
	}
	l := len(*pb)
	c.Municipalities = (*pb)[l : l : l+maxCardPlaces]
	if c.Price.Type != string(schema.CostFree) {
		c.Price.AmountCents, c.Price.Currency, c.Price.Unit = cd.amount, m.small[cd.currency], m.small[cd.unit]
	}
	for _, p := range cd.places {
		if p == noVal {
			continue
		}
		pl := Place{Code: m.fvals[p].name}
		if mu, ok := schema.LookupMunicipality(pl.Code); ok {
			pl.Name = mu.Name
		}
		c.Municipalities = append(c.Municipalities, pl)
	}
	*pb = (*pb)[:l+len(c.Municipalities)]
	return c
}

// maxPlacesFacet and maxPublishersFacet are how many municipalities and
// coops their facets list unless all facets are asked for: the commonest,
// as the funnel's filters offer them.
const (
	maxPlacesFacet     = 10
	maxPublishersFacet = 10
)

// trimFacets keeps of the facets what the funnel shows: the categories of
// the next step (the top categories, or the children of the chosen one's
// top category), the commonest municipalities and coops. Query.AllFacets keeps
// everything.
func trimFacets(q Query, facets map[string][]FacetValue) {
	if q.AllFacets {
		return
	}
	// The next step's categories are the children of the chosen one's top
	// category (the top categories when none is chosen): read from the
	// taxonomy without copying its terms.
	top := ""
	if p, ok := schema.TermParent(q.Category); ok {
		top = cmp.Or(p, q.Category)
	}
	cats := facets[FacetCategory][:0:0]
	for _, v := range facets[FacetCategory] {
		if p, ok := schema.TermParent(v.Value); ok && p == top {
			cats = append(cats, v)
		}
	}
	facets[FacetCategory] = cats
	if m := facets[FacetMunicipality]; len(m) > maxPlacesFacet {
		facets[FacetMunicipality] = m[:maxPlacesFacet]
	}
	if p := facets[FacetPublisher]; len(p) > maxPublishersFacet {
		facets[FacetPublisher] = p[:maxPublishersFacet]
	}
}

// pageBuf holds the arrays an answer's page is built in: the search route
// takes one from pageBufs and gives it back once the answer is written, so
// that a page allocates none of them (the collector's work is what sets a
// search's tail). Nothing of a page may outlive its answer.
type pageBuf struct {
	hits   []Hit
	cards  []Card
	quals  []Qualification
	places []Place
	labels []LabelledValue
	facets map[string][]LabelledValue
}

var pageBufs = sync.Pool{New: func() any { return new(pageBuf) }}
