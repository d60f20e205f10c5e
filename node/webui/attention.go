package webui

import (
	"net/http"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/qualify"
)

// attentionItem is one line of "what needs attention today" on the home
// page: how many, what, and the page that deals with it.
type attentionItem struct {
	N      int
	Label  string
	Href   string
	Urgent bool
}

// maxTerminalsChecked bounds the terminals the home page reads to say how
// many are offline: a coop pairs hundreds, not thousands.
const maxTerminalsChecked = 500

// attention is what needs the account's attention today: open cases,
// call requests waiting, paired terminals offline, qualification
// applications waiting. Only lines with something to do are listed.
func (u *ui) attention(p *page, r *http.Request, a auth.Actor) []attentionItem {
	var out []attentionItem
	add := func(n int, key, href string, urgent bool) {
		if n > 0 {
			out = append(out, attentionItem{N: n, Label: p.T(key, "Count", n), Href: href, Urgent: urgent})
		}
	}
	if u.d.Escalation != nil && (a.Role == auth.Admin || a.Role == auth.Caregiver) {
		if cs, err := u.d.Escalation.Cases(ctx(r), a, escalation.CaseQuery{State: escalation.CaseOpen}); err == nil {
			add(len(cs), "home.attn.cases", "/cases", true)
		}
	}
	// Call requests from the terminals ("Chiamatemi") waiting for a call
	// back: counted by the calls service when it keeps them.
	if u.d.CallRequests != nil && (a.Role == auth.Admin || a.Role == auth.Caregiver) {
		add(u.d.CallRequests(a), "home.attn.requests", "/agenda", true)
	}
	if a.Role == auth.Admin {
		add(u.offlineTerminals(r, a), "home.attn.offline", "/terminals", false)
	}
	add(u.waitingApplications(a), "home.attn.applications", "/authority", false)
	if u.d.Qualify.Coop != nil && a.Role == auth.Admin {
		if apps, err := u.d.Qualify.Coop.List(a); err == nil {
			n := 0
			for _, ap := range apps {
				if ap.State == qualify.Changes {
					n++
				}
			}
			add(n, "home.attn.changes", "/qualification", false)
		}
	}
	return out
}

// offlineTerminals counts the terminals paired with a beneficiary whose
// connection to the node is down now.
func (u *ui) offlineTerminals(r *http.Request, a auth.Actor) int {
	if u.d.Calls == nil {
		return 0
	}
	ds, err := u.d.Calls.Devices(ctx(r), a, "")
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	n := 0
	for _, d := range ds {
		if d.Revoked || seen[d.Terminal] || len(seen) >= maxTerminalsChecked {
			continue
		}
		seen[d.Terminal] = true
		t, err := u.d.Care.Terminal(ctx(r), a, d.Terminal)
		if err != nil || t.Archived || t.Beneficiary == "" {
			continue
		}
		if !u.d.Calls.Hub().Online(t.Beneficiary) {
			n++
		}
	}
	return n
}

// waitingApplications counts the applications an authority's officer has
// still to review.
func (u *ui) waitingApplications(a auth.Actor) int {
	if u.d.Qualify.Authority == nil || (a.Role != auth.Officer && a.Role != auth.Admin) {
		return 0
	}
	apps, err := u.d.Qualify.Authority.List(a)
	if err != nil {
		return 0
	}
	n := 0
	for _, ap := range apps {
		if ap.State == qualify.Submitted {
			n++
		}
	}
	return n
}
