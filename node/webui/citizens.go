package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// citizenRoutes are the citizens' pages: sign-up, verification, the
// private area, and the operator's registration and "act for" pages.
func (u *ui) citizenRoutes() {
	if u.d.Citizens == nil {
		return
	}
	r := u.s.Router
	r.HandleFunc("/registrati", u.signupPage).Methods(http.MethodGet)
	r.HandleFunc("/registrati", u.signupPost).Methods(http.MethodPost)
	r.HandleFunc(citizens.VerifyPath, u.verifyPage).Methods(http.MethodGet)
	r.HandleFunc(citizens.VerifyPath, u.verifyPost).Methods(http.MethodPost)
	op := []auth.Role{auth.Operator}
	r.HandleFunc("/cittadini", u.gate(u.assistedList, op...)).Methods(http.MethodGet)
	r.HandleFunc("/cittadini/nuovo", u.gate(u.registerPage, op...)).Methods(http.MethodGet)
	r.HandleFunc("/cittadini/nuovo", u.gate(u.registerPost, op...)).Methods(http.MethodPost)
	r.HandleFunc("/cittadini/agisci", u.gate(u.actForPost, op...)).Methods(http.MethodPost)
	r.HandleFunc("/cittadini/smetti", u.gate(u.stopActingPost, op...)).Methods(http.MethodPost)
	u.areaRoutes()
}

// signupFields are the sign-up form's fields.
func (u *ui) signupFields(p *page) []fieldset {
	return []fieldset{set("",
		p.fld("text", "display_name", "citizen.display_name", required, auto("name")),
		p.fld("email", "email", "citizen.email", required, auto("email")),
		p.fld("text", "username", "account.username", required, auto("username"), help(p, "help.username")),
		p.fld("password", "password", "account.password", required, auto("new-password"), help(p, "help.password")),
		p.choice("select", "lang", "account.lang", "lang", u.cat.langs),
	)}
}

func (u *ui) renderSignup(w http.ResponseWriter, r *http.Request, p *page, status int) {
	f := form{Action: "/registrati", Submit: p.T("citizen.signup_submit"), Cancel: "/login", Sets: u.signupFields(p)}
	p.Data = f
	p.Summary = summary(f.Sets)
	u.render(w, r, p, "form", status)
}

func (u *ui) signupPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.signup_title")
	p.Form.Set("lang", p.Lang)
	u.renderSignup(w, r, p, http.StatusOK)
}

// doneData is the page that says what happened and where to go.
type doneData struct {
	Text, Href, Link string
}

func (u *ui) signupPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	v := r.PostForm
	req := citizens.SignupRequest{Username: strings.TrimSpace(v.Get("username")), Password: v.Get("password"),
		DisplayName: strings.TrimSpace(v.Get("display_name")), Email: strings.TrimSpace(v.Get("email")), Lang: v.Get("lang")}
	if !slices.Contains(u.cat.langs, req.Lang) {
		req.Lang = ""
	}
	c, err := u.d.Citizens.Signup(ctx(r), httpx.RemoteIP(r), req)
	if err != nil {
		if u.formError(w, r, err, "citizen.signup_title", v, u.renderSignup) {
			return
		}
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "citizen.signup_title")
	d := doneData{Text: p.T("citizen.signup_active"), Href: "/login?next=%2Farea-personale", Link: p.T("citizen.go_login")}
	if c.State == citizens.Pending {
		d = doneData{Text: p.T("citizen.signup_pending"), Href: "/login", Link: p.T("citizen.go_login")}
	}
	p.Data = d
	u.render(w, r, p, "citizen_done", http.StatusCreated)
}

// formError renders the form again with the fields' errors of a 400 or a
// 429 (the throttle, shown on the password field); false for other errors.
func (u *ui) formError(w http.ResponseWriter, r *http.Request, err error, title string, v url.Values,
	again func(http.ResponseWriter, *http.Request, *page, int)) bool {
	pr := problem.As(err)
	fields := pr.Fields
	if pr.Status == http.StatusTooManyRequests {
		fields = map[string]string{"username": "rate_limited"}
	}
	if len(fields) == 0 || (pr.Status != http.StatusBadRequest && pr.Status != http.StatusTooManyRequests) {
		return false
	}
	p := u.newPage(w, r, title)
	p.Form, p.Errors = url.Values{}, fields
	for k, x := range v {
		if k != "password" { // never echo a password back
			p.Form[k] = x
		}
	}
	again(w, r, p, pr.Status)
	return true
}

type verifyData struct{ Token string }

// verifyPage asks for a click before the link is used: mail scanners
// open links, and must not spend the single-use token.
func (u *ui) verifyPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.verify_title")
	p.Data = verifyData{Token: r.URL.Query().Get("token")}
	u.render(w, r, p, "citizen_verify", http.StatusOK)
}

func (u *ui) verifyPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	p := u.newPage(w, r, "citizen.verify_title")
	_, err := u.d.Citizens.Verify(ctx(r), httpx.RemoteIP(r), r.PostForm.Get("token"))
	status := http.StatusOK
	d := doneData{Text: p.T("citizen.verified"), Href: "/login?next=%2Farea-personale", Link: p.T("citizen.go_login")}
	if err != nil {
		pr := problem.As(err)
		if pr.Status >= 500 {
			u.fail(w, r, err)
			return
		}
		status = pr.Status
		d = doneData{Text: p.T("citizen.verify_failed"), Href: "/registrati", Link: p.T("citizen.signup_again")}
	}
	p.Data = d
	u.render(w, r, p, "citizen_done", status)
}

type assistedData struct {
	Items     []citizens.AssistedDTO
	ActingFor string
}

func (u *ui) assistedList(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.assisted_title")
	p.Data = assistedData{Items: u.d.Citizens.AssistedList(actor(r)), ActingFor: httpx.ActingFor(r)}
	u.render(w, r, p, "citizens", http.StatusOK)
}

func (u *ui) registerFields(p *page) []fieldset {
	return []fieldset{
		set(p.T("citizen.person"),
			p.fld("text", "display_name", "citizen.display_name", required, auto("off")),
			p.fld("text", "username", "account.username", required, auto("off"), help(p, "help.username")),
			p.fld("email", "email", "citizen.email_optional", auto("off")),
			p.choice("select", "lang", "account.lang", "lang", u.cat.langs),
		),
		set(p.T("citizen.consent"),
			p.choice("radios", "consent.method", "citizen.consent_method", "consent_method", citizens.ConsentMethods, required),
			p.fld("text", "consent.witness", "citizen.consent_witness", auto("off"), help(p, "citizen.consent_witness_help")),
			p.fld("textarea", "consent.note", "citizen.consent_note"),
			p.checkbox("consent.given", "citizen.consent_given"),
		),
	}
}

func (u *ui) renderRegister(w http.ResponseWriter, r *http.Request, p *page, status int) {
	f := form{Action: "/cittadini/nuovo", Submit: p.T("form.create"), Cancel: "/cittadini", Sets: u.registerFields(p)}
	p.Data = f
	p.Summary = summary(f.Sets)
	u.render(w, r, p, "form", status)
}

func (u *ui) registerPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "citizen.register_title")
	p.Form.Set("lang", p.Lang)
	u.renderRegister(w, r, p, http.StatusOK)
}

func (u *ui) registerPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	v := r.PostForm
	req := citizens.RegisterRequest{Username: strings.TrimSpace(v.Get("username")), DisplayName: strings.TrimSpace(v.Get("display_name")),
		Email: strings.TrimSpace(v.Get("email")), Lang: v.Get("lang"),
		Consent: citizens.ConsentRequest{Given: v.Get("consent.given") == "on", Method: v.Get("consent.method"), Witness: v.Get("consent.witness"), Note: v.Get("consent.note")}}
	if !slices.Contains(u.cat.langs, req.Lang) {
		req.Lang = ""
	}
	if _, err := u.d.Citizens.Register(ctx(r), actor(r), req); err != nil {
		if u.formError(w, r, err, "citizen.register_title", v, u.renderRegister) {
			return
		}
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/cittadini", "flash.citizen_registered")
}

func (u *ui) actForPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	if err := u.d.Citizens.ActFor(ctx(r), actor(r), httpx.Token(r), r.PostForm.Get("citizen")); err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/area-personale", "flash.acting_started")
}

func (u *ui) stopActingPost(w http.ResponseWriter, r *http.Request) {
	if err := u.d.Citizens.ActFor(ctx(r), actor(r), httpx.Token(r), ""); err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/cittadini", "flash.acting_stopped")
}
