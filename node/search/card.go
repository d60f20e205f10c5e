package search

import (
	"slices"

	"github.com/difronte/difronte/node/catalogue"
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

func cardOf(l catalogue.Listing, q *Qualification) Card {
	c := Card{
		ID: l.ID, Publisher: l.Publisher, CoopName: l.CoopName, Name: l.Name, Category: l.Category,
		Delivery: string(l.Delivery), Price: Price{Type: string(l.Cost.Type)},
		Municipalities: make([]Place, 0, min(len(l.Areas), maxCardPlaces)), MunicipalitiesTotal: len(l.Areas),
		Qualified: q,
	}
	if l.Cost.Type != schema.CostFree && len(l.Cost.Options) > 0 {
		o := l.Cost.Options[0]
		c.Price.AmountCents, c.Price.Currency, c.Price.Unit = o.AmountCents, o.Currency, string(o.Unit)
	}
	for _, a := range l.Areas[:min(len(l.Areas), maxCardPlaces)] {
		p := Place{Code: a}
		if m, ok := schema.LookupMunicipality(a); ok {
			p.Name = m.Name
		}
		c.Municipalities = append(c.Municipalities, p)
	}
	return c
}

// maxPlacesFacet is how many municipalities the municipality facet lists
// unless all facets are asked for: the commonest, as the funnel offers.
const maxPlacesFacet = 10

// trimFacets keeps of the facets what the funnel shows: the categories of
// the next step (the top categories, or the children of the chosen one's
// top category) and the commonest municipalities. Query.AllFacets keeps
// everything.
func trimFacets(q Query, facets map[string][]FacetValue) {
	if q.AllFacets {
		return
	}
	next := schema.TopTerms()
	if t, ok := schema.Term(q.Category); ok {
		top := t.Code
		if t.Parent != "" {
			top = t.Parent
		}
		next = schema.Children(top)
	}
	cats := facets[FacetCategory][:0:0]
	for _, v := range facets[FacetCategory] {
		if slices.ContainsFunc(next, func(t schema.TaxonomyTerm) bool { return t.Code == v.Value }) {
			cats = append(cats, v)
		}
	}
	facets[FacetCategory] = cats
	if m := facets[FacetMunicipality]; len(m) > maxPlacesFacet {
		facets[FacetMunicipality] = m[:maxPlacesFacet]
	}
}
