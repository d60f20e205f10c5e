package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// kind is one record type of the private registry as the UI handles it:
// list, detail, create, edit, archive, all through the care service.
type kind[T any] struct {
	path    string // URL segment and nav section, e.g. "beneficiaries"
	key     string // catalogue prefix, e.g. "beneficiary"
	writers []auth.Role

	list    func(context.Context, auth.Actor, care.Query) (care.Page[T], error)
	get     func(context.Context, auth.Actor, string) (T, error)
	create  func(context.Context, auth.Actor, T) (T, error)
	update  func(context.Context, auth.Actor, string, T) (T, error)
	archive func(context.Context, auth.Actor, string) (T, error)
	id      func(T) string

	// toForm turns a record into form values; fromForm turns posted values
	// into a record, with errors found while reading (numbers, rows) and a
	// function renaming the service's error fields to form field names.
	toForm   func(T) url.Values
	fromForm func(r *http.Request, v url.Values) (T, map[string]string, func(string) string)
	// form describes the form for p (values and errors already on p).
	form func(r *http.Request, p *page) []fieldset
	// code normalises the service's error codes (nil: they are codes).
	code func(string) string
	// extra is additional data for the detail page, listExtra for the
	// list (nil: none).
	extra     func(r *http.Request, t T) any
	listExtra func(r *http.Request, items []T) any
}

type listData struct {
	Items      any
	Total      int
	Q          string
	Archived   bool
	From, To   int
	Prev, Next string
	CanWrite   bool
	Base       string
	Extra      any
}

type detailData struct {
	Item     any
	CanWrite bool
	Base     string
	Extra    any
}

func mountKind[T any](u *ui, k *kind[T]) {
	r := u.s.Router
	roles := sectionRoles(k.path)
	base := "/" + k.path
	r.HandleFunc(base, u.gate(func(w http.ResponseWriter, r *http.Request) { kindList(u, k, w, r) }, roles...)).Methods(http.MethodGet)
	r.HandleFunc(base+"/new", u.gate(func(w http.ResponseWriter, r *http.Request) { kindForm(u, k, w, r, "") }, k.writers...)).Methods(http.MethodGet)
	r.HandleFunc(base+"/new", u.gate(func(w http.ResponseWriter, r *http.Request) { kindSave(u, k, w, r, "") }, k.writers...)).Methods(http.MethodPost)
	r.HandleFunc(base+"/{id}", u.gate(func(w http.ResponseWriter, r *http.Request) { kindDetail(u, k, w, r) }, roles...)).Methods(http.MethodGet)
	r.HandleFunc(base+"/{id}/edit", u.gate(func(w http.ResponseWriter, r *http.Request) { kindForm(u, k, w, r, mux.Vars(r)["id"]) }, k.writers...)).Methods(http.MethodGet)
	r.HandleFunc(base+"/{id}/edit", u.gate(func(w http.ResponseWriter, r *http.Request) { kindSave(u, k, w, r, mux.Vars(r)["id"]) }, k.writers...)).Methods(http.MethodPost)
	r.HandleFunc(base+"/{id}/archive", u.gate(func(w http.ResponseWriter, r *http.Request) { kindArchive(u, k, w, r, false) }, k.writers...)).Methods(http.MethodGet)
	r.HandleFunc(base+"/{id}/archive", u.gate(func(w http.ResponseWriter, r *http.Request) { kindArchive(u, k, w, r, true) }, k.writers...)).Methods(http.MethodPost)
}

// listParams reads ?q=&offset=&archived= leniently: a page link someone
// edited by hand shows the first page rather than an error.
func listParams(r *http.Request) (q string, offset int, archived bool) {
	v := r.URL.Query()
	q = strings.TrimSpace(v.Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	offset, _ = strconv.Atoi(v.Get("offset"))
	offset = max(0, min(offset, 1_000_000))
	archived = v.Get("archived") == "1"
	return q, offset, archived
}

// pager fills the From/To/Prev/Next fields of a list.
func pager(base, q string, archived bool, offset, total int, d *listData) {
	d.Q, d.Archived, d.Total, d.Base = q, archived, total, base
	if total > 0 {
		d.From = offset + 1
		d.To = min(total, offset+pageSize)
	}
	link := func(off int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if archived {
			v.Set("archived", "1")
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	if offset > 0 {
		d.Prev = link(max(0, offset-pageSize))
	}
	if offset+pageSize < total {
		d.Next = link(offset + pageSize)
	}
}

func kindList[T any](u *ui, k *kind[T], w http.ResponseWriter, r *http.Request) {
	q, offset, archived := listParams(r)
	pg, err := k.list(ctx(r), actor(r), care.Query{Search: q, Archived: archived, Offset: offset, Limit: pageSize})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, k.key+".list_title")
	d := &listData{Items: pg.Items, CanWrite: slices.Contains(k.writers, actor(r).Role)}
	pager("/"+k.path, q, archived, offset, pg.Total, d)
	if k.listExtra != nil {
		d.Extra = k.listExtra(r, pg.Items)
	}
	p.Data = d
	u.render(w, r, p, k.path, http.StatusOK)
}

func kindDetail[T any](u *ui, k *kind[T], w http.ResponseWriter, r *http.Request) {
	t, err := k.get(ctx(r), actor(r), mux.Vars(r)["id"])
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, k.key+".detail_title")
	d := detailData{Item: t, CanWrite: slices.Contains(k.writers, actor(r).Role), Base: "/" + k.path}
	if k.extra != nil {
		d.Extra = k.extra(r, t)
	}
	p.Data = d
	u.render(w, r, p, k.key, http.StatusOK)
}

func kindForm[T any](u *ui, k *kind[T], w http.ResponseWriter, r *http.Request, id string) {
	title := k.key + ".new_title"
	p := u.newPage(w, r, title)
	if id != "" {
		t, err := k.get(ctx(r), actor(r), id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		p.Title = k.key + ".edit_title"
		p.Form = k.toForm(t)
	}
	u.renderForm(w, r, p, k.path, id, k.form(r, p), http.StatusOK)
}

// renderForm shows the generic form page.
func (u *ui) renderForm(w http.ResponseWriter, r *http.Request, p *page, path, id string, sets []fieldset, status int) {
	f := form{Action: "/" + path + "/new", Submit: p.T("form.create"), Cancel: "/" + path, Sets: sets}
	if id != "" {
		f.Action, f.Submit, f.Cancel = "/"+path+"/"+url.PathEscape(id)+"/edit", p.T("form.save"), "/"+path+"/"+url.PathEscape(id)
	}
	p.Data = f
	p.Summary = summary(sets)
	u.render(w, r, p, "form", status)
}

func kindSave[T any](u *ui, k *kind[T], w http.ResponseWriter, r *http.Request, id string) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	t, pre, rename := k.fromForm(r, r.PostForm)
	var err error
	if len(pre) == 0 {
		if id == "" {
			t, err = k.create(ctx(r), actor(r), t)
		} else {
			t, err = k.update(ctx(r), actor(r), id, t)
		}
	}
	fields := pre
	if err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest || len(pr.Fields) == 0 {
			u.fail(w, r, err)
			return
		}
		fields = map[string]string{}
		for f, c := range pr.Fields {
			if k.code != nil {
				c = k.code(c)
			}
			if _, seen := fields[rename(f)]; !seen {
				fields[rename(f)] = c
			}
		}
	}
	if len(fields) > 0 {
		p := u.newPage(w, r, k.key+".new_title")
		if id != "" {
			p.Title = k.key + ".edit_title"
		}
		p.Form, p.Errors = r.PostForm, fields
		u.renderForm(w, r, p, k.path, id, k.form(r, p), http.StatusBadRequest)
		return
	}
	key := "flash.created"
	if id != "" {
		key = "flash.saved"
	}
	u.redirect(w, r, "/"+k.path+"/"+url.PathEscape(k.id(t)), key)
}

func kindArchive[T any](u *ui, k *kind[T], w http.ResponseWriter, r *http.Request, confirmed bool) {
	id := mux.Vars(r)["id"]
	if confirmed {
		if _, err := k.archive(ctx(r), actor(r), id); err != nil {
			u.fail(w, r, err)
			return
		}
		u.redirect(w, r, "/"+k.path, "flash.archived")
		return
	}
	t, err := k.get(ctx(r), actor(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, k.key+".archive_title")
	p.Data = confirmData{Action: "/" + k.path + "/" + url.PathEscape(id) + "/archive", Cancel: "/" + k.path + "/" + url.PathEscape(id), Question: p.T(k.key + ".archive_question"), Item: t}
	u.render(w, r, p, "confirm", http.StatusOK)
}

type confirmData struct {
	Action, Cancel, Question string
	Item                     any
	Button                   string // the confirming button's text ("": archive)
}

// resolveMunicipality accepts an ISTAT code, a text starting with one (what
// the autocomplete fills in), or a municipality's exact name; anything else
// is returned as typed, for the service to refuse.
func resolveMunicipality(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 6 {
		if _, ok := schema.LookupMunicipality(s[:6]); ok && (len(s) == 6 || s[6] == ' ') {
			return s[:6]
		}
	}
	if s == "" {
		return s
	}
	name, _, _ := strings.Cut(s, " (")
	var hit []string
	for _, m := range schema.SearchMunicipalities(name, 20) {
		if strings.EqualFold(m.Name, name) {
			hit = append(hit, m.Code)
		}
	}
	if len(hit) == 1 {
		return hit[0]
	}
	return s
}

// muniValue shows a stored code in a municipality input the way the
// autocomplete fills it, so that it reads well and resolves back.
func muniValue(code string) string {
	if m, ok := schema.LookupMunicipality(code); ok {
		return m.Code + " " + m.Name + " (" + m.Province + ")"
	}
	return code
}

// atoi reads an optional whole number; a bad one is a field error.
func atoi(v url.Values, name string, errs map[string]string) int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs[name] = "bad_number"
	}
	return n
}

// list splits a comma-separated input.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func same(f string) string { return f }

// rowsIn counts the rows of a repeated group (prefix.N.field) in the
// values: at least min, and one empty row more than filled when growing.
func rowsIn(v url.Values, prefix string, min int) int {
	n := 0
	for k := range v {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		i, _, _ := strings.Cut(rest, ".")
		if x, err := strconv.Atoi(i); err == nil && x < 50 && x+1 > n {
			n = x + 1
		}
	}
	return max(n, min)
}

func rowName(prefix string, i int, f string) string { return fmt.Sprintf("%s.%d.%s", prefix, i, f) }
