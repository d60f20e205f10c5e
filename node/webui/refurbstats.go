package webui

import (
	"net/http"

	"github.com/difronte/difronte/node/auth"
)

// The authority's page of the coops' refurbishment figures, as each coop
// published them (refurbstats entries in the replica): counts only.

func (u *ui) refurbRoutes() {
	u.s.Router.HandleFunc("/authority/refurbishment", u.gate(u.refurbPage, auth.Officer, auth.Admin)).Methods(http.MethodGet)
}

func (u *ui) refurbPage(w http.ResponseWriter, r *http.Request) {
	if u.d.Workshop == nil {
		http.NotFound(w, r)
		return
	}
	f, err := u.d.Workshop.FederationStats(ctx(r), actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "kit2.refurb_title")
	p.Data = f
	u.render(w, r, p, "authority_refurbishment", http.StatusOK)
}
