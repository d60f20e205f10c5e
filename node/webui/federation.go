package webui

import (
	"net/http"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/catalogue"
)

// federationPage is what the federation page shows.
type federationPage struct {
	Coops    []catalogue.Coop
	Online   int
	Records  int
	Addrs    []string // this node's libp2p addresses, for other coops to bootstrap from
	Enabled  bool
	Listings int
}

func (u *ui) federationRoutes() {
	u.s.Router.HandleFunc("/federation", u.gate(u.federationView, sectionRoles("federation")...)).Methods(http.MethodGet)
}

// federationView lists the coops of the federation with their online state
// and how many public records each has published.
func (u *ui) federationView(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "federation.title")
	d := federationPage{}
	if u.d.Catalogue != nil {
		d.Enabled = true
		d.Coops = u.d.Coops()
		for _, c := range d.Coops {
			if c.Online {
				d.Online++
			}
			d.Records += c.Records
		}
		d.Listings = u.d.Catalogue.Listings.Count()
		if info, ok := u.s.Info(); ok && p.Account != nil && p.Account.Role == auth.Admin {
			d.Addrs = info.Addrs
		}
	}
	p.Data = d
	u.render(w, r, p, "federation", http.StatusOK)
}
