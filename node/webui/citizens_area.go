package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/problem"
)

func (u *ui) areaRoutes() {
	r := u.s.Router
	r.HandleFunc("/area-personale", u.citizenGate(u.areaPage)).Methods(http.MethodGet)
	r.HandleFunc("/area-personale/profilo", u.citizenGate(u.profilePost)).Methods(http.MethodPost)
	r.HandleFunc("/area-personale/riepilogo", u.citizenGate(u.summaryPage)).Methods(http.MethodGet)
	r.HandleFunc("/area-personale/elimina", u.citizenGate(u.deletePage)).Methods(http.MethodGet)
	r.HandleFunc("/area-personale/elimina", u.citizenGate(u.deletePost)).Methods(http.MethodPost)
}

// citizenGate lets through a citizen, or an operator acting for one
// (httpx.Router.ForCitizen's rule); anonymous visitors go to the login.
func (u *ui) citizenGate(h http.HandlerFunc) http.HandlerFunc {
	return u.gate(func(w http.ResponseWriter, r *http.Request) {
		if actor(r).Citizen() == "" {
			u.fail(w, r, problem.ErrForbidden)
			return
		}
		h(w, r)
	})
}

type section struct {
	Name    string
	Entries []citizens.Entry
}

type areaData struct {
	Profile  citizens.Profile
	Form     form
	Sections []section
	Activity []citizens.Activity
	Acting   bool
}

func (u *ui) areaPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.area_title")
	u.renderArea(w, r, p, http.StatusOK)
}

func (u *ui) renderArea(w http.ResponseWriter, r *http.Request, p *page, status int) {
	a := actor(r)
	prof, err := u.d.Citizens.Profile(ctx(r), a)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if len(p.Errors) == 0 {
		p.Form = url.Values{"display_name": {prof.DisplayName}, "email": {prof.Email}, "lang": {prof.Lang}}
	}
	d := areaData{Profile: prof, Acting: a.For != ""}
	d.Form = form{Action: "/area-personale/profilo", Submit: p.T("form.save"), Sets: []fieldset{set(p.T("citizen.profile"),
		p.fld("text", "display_name", "citizen.display_name", required, auto("name")),
		p.fld("email", "email", "citizen.email", auto("email")),
		p.choice("select", "lang", "account.lang", "lang", u.cat.langs),
	)}}
	p.Summary = summary(d.Form.Sets)
	for _, name := range citizens.Sections {
		es, err := u.d.Citizens.Section(ctx(r), a, name)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		d.Sections = append(d.Sections, section{Name: name, Entries: es})
	}
	if d.Activity, err = u.d.Citizens.Activity(ctx(r), a); err != nil {
		u.fail(w, r, err)
		return
	}
	p.Data = d
	u.render(w, r, p, "citizen_area", status)
}

func (u *ui) profilePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	v := r.PostForm
	req := citizens.ProfileRequest{DisplayName: v.Get("display_name"), Email: v.Get("email"), Lang: v.Get("lang")}
	if !slices.Contains(u.cat.langs, req.Lang) {
		req.Lang = ""
	}
	prof, err := u.d.Citizens.UpdateProfile(ctx(r), actor(r), req)
	if err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest || len(pr.Fields) == 0 {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "citizen.area_title")
		p.Form, p.Errors = v, pr.Fields
		u.renderArea(w, r, p, http.StatusBadRequest)
		return
	}
	key := "flash.saved"
	if prof.PendingEmail != "" {
		key = "flash.email_pending"
	}
	u.redirect(w, r, "/area-personale", key)
}

func (u *ui) summaryPage(w http.ResponseWriter, r *http.Request) {
	e, err := u.d.Citizens.Export(ctx(r), actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "citizen.summary_title")
	type sec struct {
		Name    string
		Entries []citizens.Entry
	}
	var secs []sec
	for _, name := range citizens.Sections {
		es, _ := e.Sections[name].([]citizens.Entry)
		secs = append(secs, sec{Name: name, Entries: es})
	}
	p.Data = map[string]any{"Export": e, "Sections": secs}
	u.render(w, r, p, "citizen_summary", http.StatusOK)
}

func (u *ui) deletePage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.delete_title")
	p.Data = map[string]string{"Username": actor(r).Citizen()}
	u.render(w, r, p, "citizen_delete", http.StatusOK)
}

func (u *ui) deletePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	a := actor(r)
	if strings.TrimSpace(r.PostForm.Get("confirm")) != a.Citizen() {
		p := u.newPage(w, r, "citizen.delete_title")
		p.Errors = map[string]string{"confirm": "confirm_username"}
		p.Data = map[string]string{"Username": a.Citizen()}
		u.render(w, r, p, "citizen_delete", http.StatusBadRequest)
		return
	}
	if err := u.d.Citizens.Delete(ctx(r), a); err != nil {
		u.fail(w, r, err)
		return
	}
	if a.For != "" {
		u.redirect(w, r, "/cittadini", "flash.citizen_deleted")
		return
	}
	u.s.Logout(w, r) // clears the cookie; the sessions are gone already
	u.redirect(w, r, "/login", "flash.account_deleted")
}
