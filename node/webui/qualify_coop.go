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
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// coverage is one own offering and whether it is qualified, or why not.
type coverage struct {
	Offering  catalogue.Offering
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
	info, ok := u.s.Info()
	if !ok {
		return ""
	}
	return info.PeerID
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
