package search

import (
	"slices"
	"strings"

	"github.com/difronte/difronte/schema"
)

// document is the indexed form of an offering.
func (x *Index) document(publisher, coop string, o schema.Offering, q *Qualification) *docIn {
	// The offering's name (whose terms are also the name's), its other
	// texts, then the texts it shares with many others (its coop's name,
	// its categories' names and keywords, its municipalities' names), each
	// analysed once (sharedTerms): about half of a catalogue's text. Lines
	// are analysed apart, so the terms are those of the whole text joined
	// by lines, in the same order.
	name := x.terms(o.Name, 0)
	all := slices.Clip(name) // appends copy: name stays the name's
	seen := getSeen()
	defer putSeen(seen)
	for _, t := range all {
		seen[t] = true
	}
	add := func(ts []string) {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				all = append(all, t)
			}
		}
	}
	add(x.terms(strings.Join([]string{o.Description, o.Eligibility.Description, o.Cost.Description}, "\n"), 0))
	shared := func(s string) { add(x.sharedTerms(s)) }
	shared(coop)
	cats, terms := schema.CategoryTerms(o.Category, o.Categories)
	for _, t := range terms {
		shared(t.NameIT)
		for _, k := range t.Keywords {
			shared(k)
		}
	}
	for _, a := range o.Areas {
		if m, ok := schema.LookupMunicipality(a); ok {
			shared(m.Name)
		}
	}
	in := &docIn{
		id:      docID(publisher, o.ID),
		nameKey: foldKey(o.Name),
		hsds:    schema.DerivedUUID("service", publisher, o.ID),
		all:     all,
		name:    name,
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
