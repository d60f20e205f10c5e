package search

import (
	"strings"

	"github.com/difronte/difronte/schema"
)

// document is the indexed form of an offering.
func (x *Index) document(publisher, coop string, o schema.Offering, q *Qualification) *docIn {
	all := []string{o.Name, o.Description, o.Eligibility.Description, o.Cost.Description, coop}
	cats, terms := schema.CategoryTerms(o.Category, o.Categories)
	for _, t := range terms {
		all = append(all, t.NameIT)
		all = append(all, t.Keywords...)
	}
	for _, a := range o.Areas {
		if m, ok := schema.LookupMunicipality(a); ok {
			all = append(all, m.Name)
		}
	}
	in := &docIn{
		id:      docID(publisher, o.ID),
		nameKey: foldKey(o.Name),
		hsds:    schema.DerivedUUID("service", publisher, o.ID),
		all:     x.terms(strings.Join(all, "\n"), 0),
		name:    x.terms(o.Name, 0),
		qual:    q,
		coop:    coop,
		card:    cardInOf(&o),
	}
	in.vals[ffCategory] = cats
	in.vals[ffPlace] = o.Areas
	in.vals[ffCost] = []string{string(o.Cost.Type)}
	in.vals[ffDelivery] = []string{string(o.Delivery)}
	in.vals[ffLang] = o.Languages
	in.vals[ffPublisher] = []string{publisher}
	return in
}
