package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
)

// States are the application states, in the console's filter order.
func appStates() []string {
	return []string{qualify.Submitted, qualify.Changes, qualify.Approved, qualify.Rejected, qualify.Revoked}
}

type consoleData struct {
	Name      string
	Territory []string
	State     string
	States    []option
	Items     []qualify.Application
	Issued    []qualify.Application
}

// console lists the applications an authority received, by state, and
// the qualifications it issued.
func (u *ui) console(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "authority.title")
	a := u.d.Qualify.Authority
	all, err := a.List(actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	if !slices.Contains(appStates(), state) {
		state = ""
	}
	d := consoleData{Name: a.Name(), Territory: a.Territory(), State: state}
	d.States = append(d.States, option{Value: "", Label: p.T("authority.all_states"), Selected: state == ""})
	for _, s := range appStates() {
		d.States = append(d.States, option{Value: s, Label: p.E("appstate", s), Selected: s == state})
	}
	for _, x := range all {
		if state == "" || x.State == state {
			d.Items = append(d.Items, x)
		}
		if x.State == qualify.Approved {
			d.Issued = append(d.Issued, x)
		}
	}
	p.Data = d
	u.render(w, r, p, "authority", http.StatusOK)
}

type reviewData struct {
	App       qualify.Application
	Base      string
	Open      bool // submitted or sent back: decisions possible
	Changes   field
	Reject    field
	Approve   []fieldset
	Revoke    field
	Confirm   field
	Territory []string
	// The coop by name and its published offerings as evidence, each
	// said covered by the application or not, and why.
	CoopName      string
	Evidence      []evidence
	EvidenceTotal int
}

func appID(r *http.Request) string {
	v := mux.Vars(r)
	return v["coop"] + "/" + v["id"]
}

// AppBase is the console address of an application.
func AppBase(app qualify.Application) string {
	coop, id, _ := strings.Cut(app.ID, "/")
	return "/authority/applications/" + url.PathEscape(coop) + "/" + url.PathEscape(id)
}

func (u *ui) reviewForms(p *page, app qualify.Application) reviewData {
	d := reviewData{App: app, Base: AppBase(app), Open: app.State == qualify.Submitted || app.State == qualify.Changes, Territory: u.d.Qualify.Authority.Territory()}
	d.Changes = p.fld("textarea", "changes.message", "authority.changes_message", required, help(p, "authority.changes_help"))
	d.Reject = p.fld("textarea", "reject.message", "authority.reject_message", required)
	d.Revoke = p.fld("textarea", "revoke.message", "authority.revoke_message", required)
	if p.V("approve.valid_until") == "" {
		p.Form.Set("approve.valid_until", u.d.Clock.Now().AddDate(1, 0, 0).Format("2006-01-02"))
	}
	if _, ok := p.Form["approve.categories"]; !ok && p.Errors == nil {
		p.Form["approve.categories"] = app.Categories
		for i, m := range app.Municipalities {
			p.Form.Set("approve.municipalities."+strconv.Itoa(i), muniValue(m))
		}
	}
	d.Approve = []fieldset{
		set(p.T("authority.grant_categories"), p.categoryGroups("approve.categories", "authority.grant_categories_help")...),
		set(p.T("authority.grant_municipalities"), p.muniFields("approve.municipalities")...),
		set("", p.fld("date", "approve.valid_until", "authority.valid_until", required, help(p, "help.date"))),
	}
	return d
}

func (u *ui) reviewPage(w http.ResponseWriter, r *http.Request) {
	app, err := u.d.Qualify.Authority.Get(actor(r), appID(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "authority.review_title")
	d := u.reviewForms(p, app)
	d.CoopName = u.coopName(app)
	d.Evidence, d.EvidenceTotal = u.evidenceOf(ctx(r), p, app)
	p.Data = d
	u.render(w, r, p, "authority_review", http.StatusOK)
}

// decide runs one of the officer's decisions from the review page.
func (u *ui) decide(w http.ResponseWriter, r *http.Request) {
	a := u.d.Qualify.Authority
	id := appID(r)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	v := r.PostForm
	action := mux.Vars(r)["action"]
	errs := map[string]string{}
	var err error
	var flashKey string
	switch action {
	case "changes", "reject":
		msg := strings.TrimSpace(v.Get(action + ".message"))
		switch {
		case msg == "":
			errs[action+".message"] = "required"
		case utf8.RuneCountInString(msg) > qualify.MaxMessage:
			errs[action+".message"] = "too_long"
		case action == "changes":
			err, flashKey = ignore(a.AskChanges(ctx(r), actor(r), id, msg)), "flash.qual_changes_asked"
		default:
			err, flashKey = ignore(a.Reject(ctx(r), actor(r), id, msg)), "flash.qual_rejected"
		}
	case "approve":
		dec := qualify.Decision{
			Categories:     readCategories(v, "approve.categories", errs),
			Municipalities: readMunicipalities(v, "approve.municipalities", a.Territory(), errs),
		}
		day, perr := time.ParseInLocation("2006-01-02", strings.TrimSpace(v.Get("approve.valid_until")), u.d.Location)
		switch {
		case perr != nil:
			errs["approve.valid_until"] = "bad_date"
		case !day.After(u.d.Clock.Now()):
			errs["approve.valid_until"] = "qualify_past"
		}
		if len(errs) == 0 {
			dec.ValidUntil = day.Add(24*time.Hour - time.Second)
			err, flashKey = ignore(a.Approve(ctx(r), actor(r), id, dec)), "flash.qual_approved"
		}
	}
	if len(errs) == 0 && err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest || len(pr.Fields) == 0 {
			u.fail(w, r, err)
			return
		}
		for f, c := range pr.Fields {
			switch f {
			case "message":
				errs[action+".message"] = c
			case "municipalities":
				errs["approve.municipalities.0"] = "qualify_outside_territory"
			case "valid_until":
				errs["approve.valid_until"] = "qualify_past"
			default:
				errs["approve."+f] = "invalid"
			}
		}
	}
	if len(errs) == 0 {
		u.redirect(w, r, AppBaseOf(id), flashKey)
		return
	}
	app, gerr := a.Get(actor(r), id)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	p := u.newPage(w, r, "authority.review_title")
	p.Form, p.Errors = v, errs
	d := u.reviewForms(p, app)
	switch action {
	case "changes":
		p.Summary = summary([]fieldset{set("", d.Changes)})
	case "reject":
		p.Summary = summary([]fieldset{set("", d.Reject)})
	default:
		p.Summary = summary(d.Approve)
	}
	p.Data = d
	u.render(w, r, p, "authority_review", http.StatusBadRequest)
}

// AppBaseOf is AppBase from an application id.
func AppBaseOf(id string) string { return AppBase(qualify.Application{ID: id}) }

// ignore drops the application a decision returns; the page reloads it.
func ignore(_ qualify.Application, err error) error { return err }

// revokePage asks for the reason and a confirmation (GET), then revokes
// (POST).
func (u *ui) revokePage(w http.ResponseWriter, r *http.Request) {
	a := u.d.Qualify.Authority
	id := appID(r)
	app, err := a.Get(actor(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if app.State != qualify.Approved {
		u.fail(w, r, problem.ErrNotFound)
		return
	}
	p := u.newPage(w, r, "authority.revoke_title")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
			return
		}
		msg := strings.TrimSpace(r.PostForm.Get("revoke.message"))
		errs := map[string]string{}
		switch {
		case msg == "":
			errs["revoke.message"] = "required"
		case utf8.RuneCountInString(msg) > qualify.MaxMessage:
			errs["revoke.message"] = "too_long"
		case r.PostForm.Get("revoke.confirm") != "on":
			errs["revoke.confirm"] = "qualify_confirm"
		}
		if len(errs) == 0 {
			if _, err := a.Revoke(ctx(r), actor(r), id, msg); err != nil {
				u.fail(w, r, err)
				return
			}
			u.redirect(w, r, "/authority", "flash.qual_revoked")
			return
		}
		p.Form, p.Errors, status = r.PostForm, errs, http.StatusBadRequest
	}
	d := reviewData{App: app, Base: AppBase(app)}
	d.Revoke = p.fld("textarea", "revoke.message", "authority.revoke_message", required)
	d.Confirm = p.checkbox("revoke.confirm", "authority.revoke_confirm")
	p.Summary = summary([]fieldset{set("", d.Revoke, d.Confirm)})
	p.Data = d
	u.render(w, r, p, "authority_revoke", status)
}

// attachment sends one attachment of an application as a download.
func (u *ui) attachment(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(mux.Vars(r)["n"])
	info, b, err := u.d.Qualify.Authority.Attachment(ctx(r), actor(r), appID(r), n)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", info.Type)
	h.Set("Content-Disposition", contentDisposition(info.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// contentDisposition names a download; names outside ASCII go in the
// RFC 5987 form only.
func contentDisposition(name string) string {
	ascii := true
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii = false
		}
	}
	if ascii {
		return `attachment; filename="` + name + `"`
	}
	return "attachment; filename*=UTF-8''" + url.PathEscape(name)
}

// AppHref is the console address of an application, for the templates.
func (p *page) AppHref(a qualify.Application) string { return AppBase(a) }

// KB shows a size in kilobytes.
func (p *page) KB(n int) string { return strconv.Itoa((n+1023)/1024) + " KB" }
