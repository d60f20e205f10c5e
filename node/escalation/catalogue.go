package escalation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// Listings is the federated catalogue as proposals read it;
// *catalogue.Federated implements it.
type Listings interface {
	Each(ctx context.Context, fn func(catalogue.Listing) error) error
}

// CatalogueOffers proposes offerings that are active, in one of the
// categories and serve the municipality: first those of the federated
// catalogue that are qualified (IsQualified is node/qualify's check: a
// valid, unrevoked qualification from a trusted authority for that
// category and territory), then the coop's own that are not, marked Own, so
// a coop that trusts no authority (a lone node) still gets proposals.
//
// It walks the whole catalogue, which is fine for a rare event on a coop
// node; node/search can replace it behind Offers with an index query.
type CatalogueOffers struct {
	Catalogue   Listings // nil: no federated catalogue
	IsQualified func(publisher string, o schema.Offering) bool
	// Own lists the coop's own offerings; Self and CoopName name their
	// publisher. Nil: none proposed.
	Own      func() []schema.Offering
	Self     string
	CoopName string
}

// Proposable implements Offers.
func (c CatalogueOffers) Proposable(ctx context.Context, categories []string, municipality string) ([]Offer, error) {
	var out []Offer
	add := func(pub, coop string, o schema.Offering, own bool) {
		if o.Status != schema.StatusActive || !slices.Contains(o.Areas, municipality) {
			return
		}
		if !CoversCategory(categories, o.Category) && !slices.ContainsFunc(o.Categories, func(x string) bool { return CoversCategory(categories, x) }) {
			return
		}
		if own && slices.ContainsFunc(out, func(x Offer) bool { return x.Publisher == pub && x.Key == o.ID }) {
			return // qualified already
		}
		out = append(out, Offer{Publisher: pub, Key: o.ID, Name: o.Name, Coop: coop, Category: o.Category,
			Free: o.Cost.Type == schema.CostFree, Price: price(o.Cost), Phone: o.Contact.Phone, Own: own})
	}
	if c.Catalogue != nil && c.IsQualified != nil {
		err := c.Catalogue.Each(ctx, func(l catalogue.Listing) error {
			if c.IsQualified(l.Publisher, l.Offering) {
				add(l.Publisher, l.CoopName, l.Offering, false)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read catalogue: %w", err)
		}
		// By name, as people read a list.
		slices.SortFunc(out, func(a, b Offer) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.Publisher, b.Publisher), strings.Compare(a.Key, b.Key))
		})
	}
	if c.Own != nil {
		for _, o := range c.Own() {
			add(c.Self, c.CoopName, o, true)
		}
	}
	return out, nil
}

// price writes the cost options as a short line, e.g. "18.00 EUR/hour".
func price(c schema.Cost) string {
	if c.Type == schema.CostFree {
		return ""
	}
	var parts []string
	for _, o := range c.Options {
		parts = append(parts, fmt.Sprintf("%d.%02d %s/%s", o.AmountCents/100, o.AmountCents%100, o.Currency, o.Unit))
	}
	return strings.Join(parts, ", ")
}
