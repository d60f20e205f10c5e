package search

import (
	"strings"

	"github.com/difronte/difronte/schema"
)

// document is the indexed form of an offering.
func (x *Index) document(publisher, coop string, o schema.Offering, q *Qualification) *docIn {
	// The offering's own text, then the texts it shares with many others
	// (its coop's name, its categories' names and keywords, its
	// municipalities' names), each analysed once (sharedTerms): about
	// half of a catalogue's text. Lines are analysed apart, so the terms
	// are those of the whole text joined by lines, in the same order.
	all := x.terms(strings.Join([]string{o.Name, o.Description, o.Eligibility.Description, o.Cost.Description}, "\n"), 0)
	seen := make(map[string]bool, len(all))
	for _, t := range all {
		seen[t] = true
	}
	add := func(s string) {
		for _, t := range x.sharedTerms(s) {
			if !seen[t] {
				seen[t] = true
				all = append(all, t)
			}
		}
	}
	add(coop)
	cats, terms := schema.CategoryTerms(o.Category, o.Categories)
	for _, t := range terms {
		add(t.NameIT)
		for _, k := range t.Keywords {
			add(k)
		}
	}
	for _, a := range o.Areas {
		if m, ok := schema.LookupMunicipality(a); ok {
			add(m.Name)
		}
	}
	in := &docIn{
		id:      docID(publisher, o.ID),
		nameKey: foldKey(o.Name),
		hsds:    schema.DerivedUUID("service", publisher, o.ID),
		all:     all,
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
