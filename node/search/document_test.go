package search

import (
	"slices"
	"strings"
	"testing"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/schema"
)

// TestDocumentTermsAsJoined checks that an offering's terms, its own text
// analysed apart from the shared texts remembered by sharedTerms, are the
// terms of all its text joined by lines and analysed at once, in the same
// order, on generated offerings and on the demo catalogue's (with
// accents, elisions, stop words, several categories and places).
func TestDocumentTermsAsJoined(t *testing.T) {
	x := bareIndex(t)
	offers := append(genOfferings(3, 1500), demo.Offerings(7, 1500)...)
	for round := range 2 { // the second reads the remembered terms
		for i, o := range offers {
			coop := "Cooperativa dell'Àncora " + string(rune('A'+i%7))
			want := x.terms(strings.Join(joinedText(o, coop), "\n"), 0)
			in := x.document("12D3KooWPub", coop, o, nil)
			if !slices.Equal(in.all, want) {
				t.Fatalf("round %d, offering %d: terms\n%v\nwant, from the joined text,\n%v", round, i, in.all, want)
			}
			if name := x.terms(o.Name, 0); !slices.Equal(in.name, name) {
				t.Fatalf("round %d, offering %d: name's terms %v, want %v", round, i, in.name, name)
			}
		}
	}
}

// joinedText is every text of an offering the index analyses, in order.
func joinedText(o schema.Offering, coop string) []string {
	all := []string{o.Name, o.Description, o.Eligibility.Description, o.Cost.Description, coop}
	_, terms := schema.CategoryTerms(o.Category, o.Categories)
	for _, t := range terms {
		all = append(all, t.NameIT)
		all = append(all, t.Keywords...)
	}
	for _, a := range o.Areas {
		if m, ok := schema.LookupMunicipality(a); ok {
			all = append(all, m.Name)
		}
	}
	return all
}
