package webui

import (
	"net/http"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/fleet"
)

// Terminal health where the people who rely on it look: the caregiver's
// agenda, home and the person's page, and the admin's list of terminals.
// One line per terminal: on now or last seen, the next programmed wake,
// and the warnings ("questo PC non può accendersi da solo").

// healthBrief is a terminal's health in words, ready for the
// "term_health" partials.
type healthBrief struct {
	Terminal string
	Online   bool
	Presence string
	Wake     string
	Warnings []string
	Trouble  bool // a warning, or no agent: the PC does not wake by itself
}

func (p *page) healthBrief(h fleet.Health) healthBrief {
	b := healthBrief{Terminal: h.Terminal, Online: h.Online}
	switch {
	case h.Online:
		b.Presence = p.T("kit2.online_now")
	case h.LastSeen != nil:
		b.Presence = p.T("kit2.last_seen", "When", p.When(*h.LastSeen))
	default:
		b.Presence = p.T("kit2.never_seen")
	}
	if h.NextWake != nil {
		b.Wake = p.T("kit2.next_wake", "When", p.When(*h.NextWake))
	}
	for _, w := range h.Warnings {
		b.Warnings = append(b.Warnings, p.E("health.warning", w))
	}
	b.Trouble = len(h.Warnings) > 0 || !h.Agent
	if !h.Agent {
		b.Warnings = append(b.Warnings, p.T("kit2.warning.no_agent"))
	}
	return b
}

// personHealth is the health of a person's terminals for the reader (nil
// when the reader may not see it or the node has no fleet).
func (u *ui) personHealth(r *http.Request, p *page, ben string) []healthBrief {
	a := actor(r)
	if u.d.Fleet == nil || (a.Role != auth.Admin && a.Role != auth.Caregiver) {
		return nil
	}
	hs, err := u.d.Fleet.PersonHealth(ctx(r), a, ben)
	if err != nil {
		return nil
	}
	out := make([]healthBrief, 0, len(hs))
	for _, h := range hs {
		out = append(out, p.healthBrief(h))
	}
	return out
}

// terminalsHealth is the admin's list's health column, by terminal id.
func (u *ui) terminalsHealth(r *http.Request, items []care.Terminal) any {
	a := actor(r)
	if u.d.Fleet == nil || a.Role != auth.Admin || len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, t := range items {
		ids[i] = t.ID
	}
	hs, err := u.d.Fleet.Healths(ctx(r), a, ids)
	if err != nil {
		return nil
	}
	p := &page{u: u, cat: u.cat, Lang: u.cat.language(r)}
	out := make(map[string]healthBrief, len(hs))
	for id, h := range hs {
		out[id] = p.healthBrief(h)
	}
	return out
}

// peopleHealth is the caregiver home's list: each of her people with a
// terminal, troubled terminals first.
type personTerminals struct {
	Name      string
	Href      string
	Terminals []healthBrief
}

func (u *ui) peopleHealth(r *http.Request, p *page) []personTerminals {
	if u.d.Fleet == nil {
		return nil
	}
	mine, err := u.d.Care.ListBeneficiaries(ctx(r), actor(r), care.Query{Limit: 100})
	if err != nil {
		return nil
	}
	var trouble, fine []personTerminals
	for _, b := range mine.Items {
		hs := u.personHealth(r, p, b.ID)
		if len(hs) == 0 {
			continue
		}
		pt := personTerminals{Name: b.Name, Href: "/beneficiaries/" + b.ID, Terminals: hs}
		bad := false
		for _, h := range hs {
			bad = bad || h.Trouble || !h.Online && h.Wake == ""
		}
		if bad {
			trouble = append(trouble, pt)
		} else {
			fine = append(fine, pt)
		}
	}
	return append(trouble, fine...)
}
