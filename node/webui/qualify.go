package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// runs reports whether this node has the services behind a section: the
// qualification pages need the coop side, the console an authority key,
// the agenda and the calls admin page the call service, cases, dashboard
// and inbox escalation (their routes exist only then).
func (u *ui) runs(section string) bool {
	switch section {
	case "qualification":
		return u.d.Qualify.Coop != nil && u.d.Qualify.Service != nil
	case "authority":
		return u.d.Qualify.Authority != nil
	case "agenda", "calls":
		return u.d.Calls != nil
	case "cases", "dashboard", "inbox":
		return u.d.Escalation != nil
	}
	return true
}

// Limits of the application form. The body limit leaves room for the
// text fields and multipart framing around the largest attachments
// allowed; the apply protocol checks the same attachment limits again.
const (
	muniRows     = 6
	maxApplyBody = federation.MaxAttachments*federation.MaxAttachmentSize + 1<<20
	refreshWait  = 10 * time.Second
)

func (u *ui) qualifyRoutes() {
	r := u.s.Router
	if u.runs("qualification") {
		roles := sectionRoles("qualification")
		r.HandleFunc("/qualification", u.gate(u.qualOverview, roles...)).Methods(http.MethodGet)
		r.HandleFunc("/qualification/refresh", u.gate(u.qualRefresh, roles...)).Methods(http.MethodPost)
		r.HandleFunc("/qualification/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.applyPage(w, r, nil) }, roles...)).Methods(http.MethodGet)
		r.HandleFunc("/qualification/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.applyPost(w, r, nil) }, roles...)).Methods(http.MethodPost)
		r.HandleFunc("/qualification/applications/{id}/resubmit", u.gate(u.resubmit, roles...)).Methods(http.MethodGet, http.MethodPost)
	}
	if u.runs("authority") {
		roles := sectionRoles("authority")
		base := "/authority/applications/{coop}/{id}"
		r.HandleFunc("/authority", u.gate(u.console, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base, u.gate(u.reviewPage, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base+"/attachments/{n:[0-9]+}", u.gate(u.attachment, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base+"/{action:changes|approve|reject}", u.gate(u.decide, roles...)).Methods(http.MethodPost)
		r.HandleFunc(base+"/revoke", u.gate(u.revokePage, roles...)).Methods(http.MethodGet, http.MethodPost)
	}
}

// badge is the "qualified by" mark, already translated.
type badge struct{ Text string }

// Badge is the "qualificato da" mark for a qualification held until
// until; nil (no mark) without an authority. Catalogue pages call it with
// a search hit's Qualified.Authority and Qualified.Until.
func (p *page) Badge(authority string, until time.Time) *badge {
	if authority == "" {
		return nil
	}
	return &badge{Text: p.T("qualify.badge", "Authority", authority, "Until", p.Day(until))}
}

// OwnBadge is the mark of one of this coop's own offerings, as this node
// judges its qualifications now.
func (p *page) OwnBadge(o catalog.Offering) *badge {
	svc := p.u.d.Qualify.Service
	if svc == nil || p.u.d.Info == nil || o.Archived {
		return nil
	}
	a, until, ok := svc.Qualified(p.u.d.Info().PeerID, o.Offering)
	if !ok {
		return nil
	}
	return p.Badge(a, until)
}

// Day shows a date without the time.
func (p *page) Day(t time.Time) string {
	if p.Lang == "it" {
		return t.Local().Format("02/01/2006")
	}
	return t.Local().Format("2006-01-02")
}

// Reason translates why a credential or an offering is not qualified. The
// service says it in English for API clients and logs; the known shapes
// become catalogue messages, anything else is shown after a translated
// lead-in.
func (p *page) Reason(s string) string {
	switch {
	case s == "":
		return ""
	case s == "no qualification":
		return p.T("qualify.reason.none")
	case strings.HasPrefix(s, "category ") && strings.HasSuffix(s, " not qualified"):
		return p.T("qualify.reason.category", "Category", p.Category(strings.TrimSuffix(strings.TrimPrefix(s, "category "), " not qualified")))
	case strings.HasPrefix(s, "municipality ") && strings.HasSuffix(s, " not qualified"):
		return p.T("qualify.reason.municipality", "Municipality", p.Muni(strings.TrimSuffix(strings.TrimPrefix(s, "municipality "), " not qualified")))
	case strings.HasPrefix(s, "revoked by "):
		return p.T("qualify.reason.revoked", "Authority", strings.TrimPrefix(s, "revoked by "))
	case strings.Contains(s, "expired at"):
		return p.T("qualify.reason.expired")
	case strings.Contains(s, "not valid before"):
		return p.T("qualify.reason.not_yet")
	}
	return p.T("qualify.reason.invalid", "Detail", strings.TrimPrefix(s, schema.ErrCredential.Error()+": "))
}

// authority is one authority this node trusts, as the coop picks it.
type authority struct {
	Peer, Name string
	Territory  []string
}

// authorities lists the trusted authorities by node: a rotated key shares
// its authority's node and name.
func (u *ui) authorities() []authority {
	var out []authority
	for _, k := range u.d.Qualify.Service.Trust().Keys() {
		i := slices.IndexFunc(out, func(a authority) bool { return a.Peer == k.Peer && a.Name == k.Name })
		if i < 0 {
			out = append(out, authority{Peer: k.Peer, Name: k.Name, Territory: slices.Clone(k.Territory)})
			continue
		}
		for _, t := range k.Territory {
			if !slices.Contains(out[i].Territory, t) {
				out[i].Territory = append(out[i].Territory, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b authority) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// TerritoryText shows a territory: provinces by code, municipalities by name.
func (p *page) TerritoryText(codes []string) string {
	var out []string
	for _, c := range codes {
		if len(c) == 3 {
			out = append(out, p.T("qualify.province", "Code", c))
		} else {
			out = append(out, p.Muni(c))
		}
	}
	return strings.Join(out, ", ")
}

// coverage is one own offering and whether it is qualified, or why not.
type coverage struct {
	Offering  catalog.Offering
	Authority string
	Until     time.Time
	Reason    string
	OK        bool
}

type qualOverview struct {
	PeerID       string
	Authorities  []authority
	Credentials  []qualify.Result
	Coverage     []coverage
	Uncovered    int
	Applications []qualify.OwnApplication
}

func (u *ui) peerID() string {
	if u.d.Info == nil {
		return ""
	}
	return u.d.Info().PeerID
}

// qualOverview is the coop admin's qualification page: authorities,
// credentials held, which offerings are covered, applications.
func (u *ui) qualOverview(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "qualify.title")
	apps, err := u.d.Qualify.Coop.List(actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := qualOverview{PeerID: u.peerID(), Authorities: u.authorities(), Applications: apps}
	d.Credentials = u.d.Qualify.Service.Credentials(d.PeerID)
	for _, o := range u.d.Own.All() {
		if o.Archived {
			continue
		}
		c := coverage{Offering: o}
		c.Authority, c.Until, c.Reason, c.OK = u.d.Qualify.Service.Explain(d.PeerID, o.Offering)
		if !c.OK {
			d.Uncovered++
		}
		d.Coverage = append(d.Coverage, c)
	}
	slices.SortFunc(d.Coverage, func(a, b coverage) int { return strings.Compare(a.Offering.Name, b.Offering.Name) })
	p.Data = d
	u.render(w, r, p, "qualify", http.StatusOK)
}

func (u *ui) qualRefresh(w http.ResponseWriter, r *http.Request) {
	c, cancel := context.WithTimeout(ctx(r), refreshWait)
	defer cancel()
	if _, err := u.d.Qualify.Coop.Refresh(c); err != nil {
		u.log.Info("refresh of applications incomplete", "err", err)
		u.redirect(w, r, "/qualification", "flash.qual_refresh_partial")
		return
	}
	u.redirect(w, r, "/qualification", "flash.qual_refreshed")
}

// applyData is the application form page.
type applyData struct {
	Action      string
	Resubmit    *qualify.OwnApplication
	Sets        []fieldset
	Attach      field
	MaxFiles    int
	MaxMB       int
	NoAuthority bool
}

// categoryGroups builds one checkbox group per top category (the top term
// itself covers all its children), named name, with the chosen values.
func (p *page) categoryGroups(name, label string) []field {
	chosen := p.Form[name]
	var out []field
	for i, top := range schema.TopTerms() {
		f := field{Name: name, ID: fieldID(name) + "-" + strconv.Itoa(i), Kind: "checks", Label: p.Category(top.Code)}
		f.HelpID, f.ErrorID = "h"+f.ID[1:], "e"+f.ID[1:]
		if i == 0 {
			f.Error = p.Err(name)
		}
		f.Options = append(f.Options, option{Value: top.Code, Label: p.T("qualify.whole_area", "Area", p.Category(top.Code)), Selected: slices.Contains(chosen, top.Code)})
		for _, k := range schema.Children(top.Code) {
			f.Options = append(f.Options, option{Value: k.Code, Label: p.Category(k.Code), Selected: slices.Contains(chosen, k.Code)})
		}
		out = append(out, f)
	}
	if len(out) > 0 {
		out[0].Help = p.T(label)
	}
	return out
}

// muniFields are the municipality rows prefix.0, prefix.1, ...
func (p *page) muniFields(prefix string) []field {
	var out []field
	for i := range rowsIn(p.Form, prefix, muniRows) {
		n := i
		out = append(out, p.fld("text", prefix+"."+strconv.Itoa(i), "qualify.municipality_n", muni, func(f *field) { f.Label = p.T("qualify.municipality_n", "N", n+1) }))
	}
	out[0].Help = p.T("help.municipality")
	return out
}

func (u *ui) applyForm(p *page, prev *qualify.OwnApplication) applyData {
	d := applyData{Action: "/qualification/new", Resubmit: prev, MaxFiles: federation.MaxAttachments, MaxMB: federation.MaxAttachmentSize >> 20}
	var first []field
	if prev == nil {
		var peers, names []string
		for _, a := range u.authorities() {
			if a.Peer == "" {
				continue // no node to send the application to
			}
			peers, names = append(peers, a.Peer), append(names, a.Name+" ("+p.TerritoryText(a.Territory)+")")
		}
		d.NoAuthority = len(peers) == 0
		auth := p.pick("select", "authority", "qualify.authority", peers, names, required)
		if len(peers) == 1 && p.V("authority") == "" {
			auth.Options[0].Selected = true
		}
		first = append(first, auth)
	} else {
		d.Action = "/qualification/applications/" + url.PathEscape(prev.ID) + "/resubmit"
	}
	d.Sets = []fieldset{
		set("", first...),
		set(p.T("qualify.categories"), p.categoryGroups("categories", "qualify.categories_help")...),
		set(p.T("qualify.municipalities"), p.muniFields("municipalities")...),
		set("", p.fld("textarea", "description", "qualify.description", required, help(p, "qualify.description_help"))),
	}
	d.Attach = p.fld("file", "attachments", "qualify.attachments")
	d.Attach.Help = p.T("qualify.attachments_help", "Max", d.MaxFiles, "MB", d.MaxMB)
	return d
}

func (u *ui) applyPage(w http.ResponseWriter, r *http.Request, prev *qualify.OwnApplication) {
	p := u.newPage(w, r, "qualify.apply_title")
	if prev != nil {
		p.Title = "qualify.resubmit_title"
		p.Form["categories"] = prev.Categories
		for i, m := range prev.Municipalities {
			p.Form.Set("municipalities."+strconv.Itoa(i), muniValue(m))
		}
		p.Form.Set("description", prev.Description)
	}
	p.Data = u.applyForm(p, prev)
	u.render(w, r, p, "qualify_apply", http.StatusOK)
}

func (u *ui) resubmit(w http.ResponseWriter, r *http.Request) {
	prev, err := u.d.Qualify.Coop.Get(actor(r), mux.Vars(r)["id"])
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if prev.State != qualify.Changes {
		u.fail(w, r, problem.ErrNotFound)
		return
	}
	if r.Method == http.MethodGet {
		u.applyPage(w, r, &prev)
		return
	}
	u.applyPost(w, r, &prev)
}

// readApplication reads the multipart form: values into v, the files as
// attachments, and field errors.
func readApplication(w http.ResponseWriter, r *http.Request) (url.Values, []federation.Attachment, map[string]string) {
	errs := map[string]string{}
	r.Body = http.MaxBytesReader(w, r.Body, maxApplyBody)
	err := r.ParseMultipartForm(1 << 20)
	v := url.Values{}
	if r.MultipartForm != nil {
		v = r.MultipartForm.Value
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			errs["attachments"] = "qualify_too_large"
		} else {
			errs["attachments"] = "invalid"
		}
		return v, nil, errs
	}
	var atts []federation.Attachment
	for _, fh := range r.MultipartForm.File["attachments"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // an empty file input
		}
		if len(atts) == federation.MaxAttachments {
			errs["attachments"] = "qualify_too_many_files"
			break
		}
		if fh.Size > federation.MaxAttachmentSize {
			errs["attachments"] = "qualify_too_large"
			break
		}
		f, err := fh.Open()
		if err != nil {
			errs["attachments"] = "invalid"
			break
		}
		b, err := io.ReadAll(io.LimitReader(f, federation.MaxAttachmentSize+1))
		f.Close()
		if err != nil || len(b) == 0 || len(b) > federation.MaxAttachmentSize {
			errs["attachments"] = "qualify_too_large"
			break
		}
		// The type is what the bytes are, not what the browser claims.
		typ, _, _ := strings.Cut(http.DetectContentType(b), ";")
		name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
		if !utf8.ValidString(name) || len(name) > 200 || name == "." || name == "/" {
			name = "allegato-" + strconv.Itoa(len(atts)+1)
		}
		at := federation.Attachment{Name: name, Type: typ, Data: b}
		if qualify.CheckAttachment(at) != nil {
			errs["attachments"] = "qualify_bad_type"
			break
		}
		atts = append(atts, at)
	}
	return v, atts, errs
}

// readMunicipalities reads rows prefix.N, with row errors; territory (if
// not nil) bounds them.
func readMunicipalities(v url.Values, prefix string, territory []string, errs map[string]string) []string {
	var out []string
	probe := schema.AuthorityKey{Territory: territory}
	for i := range rowsIn(v, prefix, 0) {
		name := prefix + "." + strconv.Itoa(i)
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		m := resolveMunicipality(s)
		switch {
		case !schema.ValidMunicipality(m):
			errs[name] = "bad_municipality"
		case territory != nil && !probe.InTerritory(m):
			errs[name] = "qualify_outside_territory"
		case !slices.Contains(out, m):
			out = append(out, m)
		}
	}
	if len(out) == 0 && len(errs) == 0 {
		errs[prefix+".0"] = "required"
	}
	return out
}

func readCategories(v url.Values, name string, errs map[string]string) []string {
	var out []string
	for _, c := range v[name] {
		if !schema.KnownTerm(c) {
			errs[name] = "bad_choice"
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 && errs[name] == "" {
		errs[name] = "required"
	}
	return out
}

func (u *ui) applyPost(w http.ResponseWriter, r *http.Request, prev *qualify.OwnApplication) {
	v, atts, errs := readApplication(w, r)
	var au authority
	if prev == nil {
		peer := v.Get("authority")
		i := slices.IndexFunc(u.authorities(), func(a authority) bool { return a.Peer != "" && a.Peer == peer })
		if i < 0 {
			errs["authority"] = "required"
		} else {
			au = u.authorities()[i]
		}
	} else {
		au = authority{Peer: prev.Authority, Name: prev.AuthorityName}
		for _, a := range u.authorities() {
			if a.Peer == prev.Authority {
				au.Territory = a.Territory
			}
		}
	}
	form := federation.ApplicationForm{
		Categories:     readCategories(v, "categories", errs),
		Municipalities: readMunicipalities(v, "municipalities", au.Territory, errs),
		Description:    strings.TrimSpace(v.Get("description")),
	}
	switch n := utf8.RuneCountInString(form.Description); {
	case n == 0:
		errs["description"] = "required"
	case n > qualify.MaxDescription:
		errs["description"] = "too_long"
	}
	status := http.StatusBadRequest
	var summaryMsg string
	if len(errs) == 0 {
		if prev != nil {
			form.ID = prev.ID
		}
		form.Attachments = atts
		_, err := u.d.Qualify.Coop.Apply(ctx(r), actor(r), au.Peer, au.Name, form)
		if err == nil {
			u.redirect(w, r, "/qualification", "flash.qual_sent")
			return
		}
		pr := problem.As(err)
		switch {
		case pr.Status == http.StatusBadRequest:
			summaryMsg = pr.Message
		case pr.Status == http.StatusForbidden || pr.Status == http.StatusNotFound || pr.Status == http.StatusConflict:
			u.fail(w, r, err)
			return
		default:
			u.log.Warn("application not delivered", "authority", au.Peer, "err", err)
			status, summaryMsg = http.StatusBadGateway, ""
		}
	}
	p := u.newPage(w, r, "qualify.apply_title")
	if prev != nil {
		p.Title = "qualify.resubmit_title"
	}
	p.Form, p.Errors = v, errs
	d := u.applyForm(p, prev)
	if errs["attachments"] != "" {
		d.Attach.Error = p.Err("attachments")
	}
	switch {
	case status == http.StatusBadGateway:
		p.Summary = []fieldError{{ID: "f-description", Msg: p.T("qualify.unreachable")}}
	case summaryMsg != "":
		p.Summary = []fieldError{{ID: "f-description", Msg: p.T("qualify.refused", "Reason", summaryMsg)}}
	default:
		p.Summary = summary(d.Sets)
		if d.Attach.Error != "" {
			p.Summary = append(p.Summary, fieldError{ID: d.Attach.ID, Msg: d.Attach.Label + ": " + d.Attach.Error})
		}
	}
	p.Data = d
	u.render(w, r, p, "qualify_apply", status)
}

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
		p.Form.Set("approve.valid_until", time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
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
	p.Data = u.reviewForms(p, app)
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
		day, perr := time.ParseInLocation("2006-01-02", strings.TrimSpace(v.Get("approve.valid_until")), time.Local)
		switch {
		case perr != nil:
			errs["approve.valid_until"] = "bad_date"
		case !day.After(time.Now()):
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
