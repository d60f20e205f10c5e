package webui

import (
	"net/http"
	"strings"

	"github.com/difronte/difronte/node/auth"
)

// navGroup is one entry of the main menu: a plain link (Items empty), or a
// named group of links shown as a disclosure menu.
type navGroup struct {
	Key string // catalogue key suffix of the group's name ("people")
	// navItem is the link, or the group's name (no Href) and whether one
	// of its links is the current page.
	navItem
	Items []navItem
}

// sectionGroup puts a section in one of the menu's groups; a section not
// named here (a new one) stays a plain link of its own.
var sectionGroup = map[string]string{
	"beneficiaries": "people", "caregivers": "people", "terminals": "people", "officina": "people", "cittadini": "people", "lavoratori": "people",
	"agenda": "calls", "calls": "calls", "cases": "calls", "dashboard": "calls", "inbox": "calls",
	"catalogue": "services", "offerings": "services", "richieste": "services", "pratiche": "services", "lavoro": "services",
	"federation": "federation", "qualification": "federation", "authority": "federation",
	"accounts": "admin", "audit": "admin",
}

// groupOrder is the order of the groups in the menu.
var groupOrder = []string{"people", "calls", "services", "federation", "admin"}

// flatNavMax is how many links a menu shows without groups: a role with
// a handful of pages reads them better in one line than behind menus.
const flatNavMax = 7

// sectionHref is where a section's menu link goes.
func sectionHref(s string) string {
	switch s {
	case "home":
		return "/"
	case "catalogue":
		return "/catalogo"
	}
	return "/" + s
}

// nav builds the menu of an account: its sections in order, grouped when
// there are more than flatNavMax of them.
func (u *ui) nav(p *page, r *http.Request, role auth.Role) []navGroup {
	return u.navOf(p, r, role, u.runs)
}

// navOf is nav with the sections the node runs given.
func (u *ui) navOf(p *page, r *http.Request, role auth.Role, runs func(string) bool) []navGroup {
	var items []navItem
	var sections []string
	for _, s := range sectionOrder() {
		// An operator acting for a citizen also reaches the citizen's
		// sections (private area, pratiche) from the menu.
		if !(may(role, s) || (p.ActingFor != "" && may(auth.Citizen, s))) || !runs(s) {
			continue
		}
		href := sectionHref(s)
		cur := r.URL.Path == href || (href != "/" && strings.HasPrefix(r.URL.Path, href+"/"))
		items = append(items, navItem{Href: href, Label: p.T("nav." + s), Current: cur})
		sections = append(sections, s)
	}
	var out []navGroup
	if len(items) <= flatNavMax {
		for _, it := range items {
			out = append(out, navGroup{navItem: it})
		}
		return out
	}
	groups := map[string]*navGroup{}
	var loose []navGroup
	for i, s := range sections {
		g := sectionGroup[s]
		if g == "" {
			loose = append(loose, navGroup{navItem: items[i]})
			continue
		}
		if groups[g] == nil {
			groups[g] = &navGroup{Key: g, navItem: navItem{Label: p.T("nav.group." + g)}}
		}
		groups[g].Items = append(groups[g].Items, items[i])
		groups[g].Current = groups[g].Current || items[i].Current
	}
	out = append(out, loose...)
	for _, g := range groupOrder {
		switch {
		case groups[g] == nil:
		case len(groups[g].Items) == 1:
			out = append(out, navGroup{navItem: groups[g].Items[0]})
		default:
			out = append(out, *groups[g])
		}
	}
	return out
}
