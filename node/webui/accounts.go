package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

func roleNames() []string {
	out := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		out[i] = string(r)
	}
	return out
}

func (u *ui) accountRoutes() {
	r := u.s.Router
	admin := []auth.Role{auth.Admin}
	r.HandleFunc("/accounts", u.gate(u.accountList, admin...)).Methods(http.MethodGet)
	r.HandleFunc("/accounts/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.accountForm(w, r, "") }, admin...)).Methods(http.MethodGet)
	r.HandleFunc("/accounts/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.accountSave(w, r, "") }, admin...)).Methods(http.MethodPost)
	r.HandleFunc("/accounts/{username}/edit", u.gate(func(w http.ResponseWriter, r *http.Request) { u.accountForm(w, r, mux.Vars(r)["username"]) }, admin...)).Methods(http.MethodGet)
	r.HandleFunc("/accounts/{username}/edit", u.gate(func(w http.ResponseWriter, r *http.Request) { u.accountSave(w, r, mux.Vars(r)["username"]) }, admin...)).Methods(http.MethodPost)
}

func (u *ui) accountList(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "account.list_title")
	p.Data = u.d.Auth.List()
	u.render(w, r, p, "accounts", http.StatusOK)
}

func (u *ui) accountFields(r *http.Request, p *page, username string) []fieldset {
	var fs []field
	if username == "" {
		fs = append(fs, p.fld("text", "username", "account.username", required, auto("off"), help(p, "help.username")))
	}
	fs = append(fs,
		p.fld("text", "display_name", "account.display_name", auto("off")),
		p.choice("select", "role", "account.role", "role", roleNames(), required),
	)
	ids, names := u.caregiverChoices(r)
	ids, names = append([]string{""}, ids...), append([]string{p.T("account.no_caregiver")}, names...)
	fs = append(fs, p.pick("select", "caregiver_id", "account.caregiver", ids, names, help(p, "help.account_caregiver")),
		p.choice("select", "lang", "account.lang", "lang", u.cat.langs),
		p.fld("email", "email", "account.email", auto("email"), help(p, "help.account_email")))
	if username != "" {
		fs = append(fs, p.checkbox("disabled", "account.disabled"),
			p.fld("password", "password", "account.new_password", auto("new-password"), help(p, "help.reset_password")))
	} else {
		fs = append(fs, p.fld("password", "password", "account.password", required, auto("new-password"), help(p, "help.password")))
	}
	return []fieldset{set("", fs...)}
}

func (u *ui) accountForm(w http.ResponseWriter, r *http.Request, username string) {
	p := u.newPage(w, r, "account.new_title")
	if username != "" {
		a, ok := u.d.Auth.Get(username)
		if !ok {
			u.fail(w, r, problem.ErrNotFound)
			return
		}
		p.Title = "account.edit_title"
		p.Form = url.Values{"display_name": {a.DisplayName}, "role": {string(a.Role)}, "caregiver_id": {a.CaregiverID}, "lang": {a.Lang}, "email": {a.Email}}
		if a.Disabled {
			p.Form.Set("disabled", "on")
		}
	}
	u.renderAccountForm(w, r, p, username, http.StatusOK)
}

func (u *ui) renderAccountForm(w http.ResponseWriter, r *http.Request, p *page, username string, status int) {
	f := form{Action: "/accounts/new", Submit: p.T("form.create"), Cancel: "/accounts", Sets: u.accountFields(r, p, username)}
	if username != "" {
		f.Action, f.Submit = "/accounts/"+url.PathEscape(username)+"/edit", p.T("form.save")
		f.Heading = username
	}
	p.Data = f
	p.Summary = summary(f.Sets)
	u.render(w, r, p, "form", status)
}

func (u *ui) accountSave(w http.ResponseWriter, r *http.Request, username string) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	v := r.PostForm
	req := auth.AccountRequest{
		Username: strings.TrimSpace(v.Get("username")), Role: auth.Role(v.Get("role")), DisplayName: strings.TrimSpace(v.Get("display_name")),
		CaregiverID: v.Get("caregiver_id"), Lang: v.Get("lang"), Email: strings.TrimSpace(v.Get("email")), Password: v.Get("password"), Disabled: v.Get("disabled") == "on",
	}
	if req.Lang != "" && !slices.Contains(u.cat.langs, req.Lang) {
		req.Lang = ""
	}
	var err error
	if username == "" {
		_, err = u.accounts.Create(ctx(r), actor(r), req)
	} else {
		if _, ok := u.d.Auth.Get(username); !ok {
			u.fail(w, r, problem.ErrNotFound)
			return
		}
		req.Username = username
		_, err = u.accounts.Update(ctx(r), actor(r), req)
	}
	if err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest || len(pr.Fields) == 0 {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "account.new_title")
		if username != "" {
			p.Title = "account.edit_title"
		}
		p.Form, p.Errors = url.Values{}, pr.Fields
		for k, x := range v {
			if k != "password" { // never echo a password back
				p.Form[k] = x
			}
		}
		u.renderAccountForm(w, r, p, username, http.StatusBadRequest)
		return
	}
	key := "flash.created"
	if username != "" {
		key = "flash.saved"
	}
	u.redirect(w, r, "/accounts", key)
}
