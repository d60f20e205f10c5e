package escalation

import (
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
	Page(ctx context.Context, offset, limit int) (int, []catalogue.Listing, error)
}

// CatalogueOffers proposes offerings of the federated catalogue that are
// active, in one of the categories, serve the municipality, and are
// qualified (IsQualified is node/qualify's check: a valid, unrevoked
// qualification from a trusted authority for that category and territory).
//
// It walks the whole catalogue, which is fine for a rare event on a coop
// node; node/search can replace it behind Offers with an index query.
type CatalogueOffers struct {
	Catalogue   Listings
	IsQualified func(publisher string, o schema.Offering) bool
}

// Qualified implements Offers.
func (c CatalogueOffers) Qualified(ctx context.Context, categories []string, municipality string) ([]Offer, error) {
	if c.Catalogue == nil || c.IsQualified == nil {
		return nil, nil
	}
	var out []Offer
	const page = 500
	for off := 0; ; off += page {
		total, ls, err := c.Catalogue.Page(ctx, off, page)
		if err != nil {
			return nil, fmt.Errorf("read catalogue: %w", err)
		}
		for _, l := range ls {
			o := l.Offering
			if o.Status != schema.StatusActive || !slices.Contains(o.Areas, municipality) {
				continue
			}
			if !CoversCategory(categories, o.Category) && !slices.ContainsFunc(o.Categories, func(x string) bool { return CoversCategory(categories, x) }) {
				continue
			}
			if !c.IsQualified(l.Publisher, o) {
				continue
			}
			out = append(out, Offer{Publisher: l.Publisher, Key: o.ID, Name: o.Name, Coop: l.CoopName, Category: o.Category,
				Free: o.Cost.Type == schema.CostFree, Price: price(o.Cost), Phone: o.Contact.Phone})
		}
		if off+page >= total || ctx.Err() != nil {
			break
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
