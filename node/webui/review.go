package webui

import (
	"context"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// maxEvidence bounds the offerings the review page lists as evidence.
const maxEvidence = 50

// evidence is one of the applying coop's published offerings, as the
// officer reads it: what it is, where, and whether the application covers
// it (and if not, why, in words).
type evidence struct {
	Card    search.Card
	Covered bool
	Why     []string // why not: the category, the places outside the request
}

// coopName is how the review page names the applying coop: the name in
// the application, else the one its profile publishes, else "".
func (u *ui) coopName(app qualify.Application) string {
	if app.CoopName != "" {
		return app.CoopName
	}
	if f := u.d.Catalogue; f != nil && f.Listings != nil {
		return f.Listings.Coops()[app.Coop]
	}
	return ""
}

// evidenceOf lists the coop's offerings in the federated catalogue and
// says, for each, whether the application's categories and municipalities
// cover it; total counts them all.
func (u *ui) evidenceOf(c context.Context, p *page, app qualify.Application) (evs []evidence, total int) {
	f := u.d.Catalogue
	if f == nil || f.Index == nil {
		return nil, 0
	}
	ans, err := f.Search(c, search.Query{Publisher: app.Coop, PerPage: maxEvidence})
	if err != nil {
		return nil, 0
	}
	for _, card := range ans.Results {
		ev := evidence{Card: card, Covered: true}
		if !coversCategory(app.Categories, card.Category) {
			ev.Covered = false
			ev.Why = append(ev.Why, p.T("review.not_category", "Category", p.Category(card.Category)))
		}
		var outside []string
		for _, m := range card.Municipalities {
			if !slices.Contains(app.Municipalities, m.Code) {
				outside = append(outside, p.Muni(m.Code))
			}
		}
		if len(outside) > 0 {
			ev.Covered = false
			ev.Why = append(ev.Why, p.T("review.not_places", "Places", strings.Join(outside, ", "), "Count", len(outside)))
		}
		evs = append(evs, ev)
	}
	return evs, ans.Total
}

// coversCategory reports whether a request for cats covers category c: the
// category itself or its top category.
func coversCategory(cats []string, c string) bool {
	if slices.Contains(cats, c) {
		return true
	}
	t, ok := schema.Term(c)
	return ok && t.Parent != "" && slices.Contains(cats, t.Parent)
}

// ProvinceName says a province by its ISTAT code in words: "provincia di
// MI (Lombardia)", from the municipalities it holds.
func (p *page) ProvinceName(code string) string {
	for i := 1; i < 1000; i++ {
		if m, ok := schema.LookupMunicipality(code + threeDigits(i)); ok {
			return p.T("review.province", "Sigla", m.Province, "Region", m.Region)
		}
	}
	return p.T("qualify.province", "Code", code)
}

func threeDigits(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}
