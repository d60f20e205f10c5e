package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/schema"
)

// parsePages parses every page into one template set with the layout and
// the partials: each page's "content" is renamed "content:NAME" (contentOf),
// which render executes before the layout. One set, not a clone of the
// layout and partials per page: 57 clones were about 145,000 small objects
// that every garbage collection had to trace. Every name maps to the set.
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"add":    func(a, b int) int { return a + b },
		"dayOut": dayOut,
	}
	set, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "layout.html", "partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" || n == "partials.html" {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(n, ".html")
		const def = `{{define "content"}}`
		if strings.Count(string(b), def) != 1 {
			return nil, fmt.Errorf("parse %s: it must define \"content\" once", n)
		}
		text := strings.Replace(string(b), def, `{{define "`+contentOf(name)+`"}}`, 1)
		// In one set a helper another file defined would be replaced
		// without a word: refuse it.
		for _, m := range defineRE.FindAllStringSubmatch(text, -1) {
			if set.Lookup(m[1]) != nil {
				return nil, fmt.Errorf("parse %s: %q is defined by another template too", n, m[1])
			}
		}
		if _, err := set.New(n).Parse(text); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		pages[name] = set
	}
	return pages, nil
}

// defineRE finds the templates a file defines.
var defineRE = regexp.MustCompile(`{{-?\s*define\s+"([^"]+)"`)

// contentOf names the content template of page name in the set.
func contentOf(name string) string { return "content:" + name }

// page is what every template gets.
type page struct {
	u       *ui
	cat     *catalogues
	Lang    string
	Title   string // catalogue key of the page title
	Account *auth.Account
	// ActingFor is the citizen an operator acts for in this session.
	ActingFor string
	Coop      string
	Path      string // request URI, for the language switch's way back
	Flash     string // translated one-shot message
	Nav       []navGroup
	Langs     []string

	Form    url.Values        // the values a form shows
	Errors  map[string]string // field -> error code
	Summary []fieldError      // the error summary at the top of a form
	Data    any

	// Content is the page's own part, rendered (render), which the
	// layout shows.
	Content template.HTML
}

type navItem struct {
	Href, Label string
	Current     bool
}

func (u *ui) newPage(w http.ResponseWriter, r *http.Request, title string) *page {
	p := &page{u: u, cat: u.cat, Lang: u.cat.language(r), Title: title, Account: httpx.Account(r), ActingFor: httpx.ActingFor(r), Path: r.URL.RequestURI(), Langs: u.cat.langs, Form: url.Values{}}
	if info, ok := u.s.Info(); ok {
		p.Coop = info.CoopName
	}
	if ck, err := r.Cookie(FlashCookie); err == nil {
		if flashKeyRE.MatchString(ck.Value) && u.cat.has(p.Lang, ck.Value) {
			p.Flash = p.T(ck.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	if p.Account != nil {
		p.Nav = u.nav(p, r, p.Account.Role)
	}
	return p
}

var flashKeyRE = regexp.MustCompile(`^flash\.[a-z_]+$`)

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, p *page, name string, status int) {
	t := u.pages[name]
	if t == nil {
		u.log.Error("no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, contentOf(name), p); err != nil {
		u.log.Error("render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Escaped by its own execution, in the context the layout puts it in
	// (the text of <main>).
	p.Content = template.HTML(buf.String()) //nolint:gosec
	buf.Reset()
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		u.log.Error("render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	h.Set("Vary", "Cookie, Accept-Language")
	// Only a page without an account is compressed (compress.go).
	writeBody(w, r, status, buf.Bytes(), p.Account == nil)
}

// T translates a catalogue key; args are name/value pairs.
func (p *page) T(key string, args ...any) string { return p.cat.translate(p.Lang, key, args...) }

// E translates an enumerated value: E "fragility" "alone" is the key
// "fragility.alone".
func (p *page) E(prefix string, v any) string { return p.T(prefix + "." + fmt.Sprint(v)) }

// V is a form value.
func (p *page) V(name string) string { return p.Form.Get(name) }

// Muni shows a municipality code as "Name (PR)".
func (p *page) Muni(code string) string {
	if m, ok := schema.LookupMunicipality(code); ok {
		return m.Name + " (" + m.Province + ")"
	}
	return code
}

// Category shows a taxonomy code in the page language.
func (p *page) Category(code string) string {
	t, ok := schema.Term(code)
	if !ok {
		return code
	}
	if p.Lang == "en" {
		return t.NameEN
	}
	return t.NameIT
}

// Euro shows cents as an amount in euro with the page language's decimal mark.
func (p *page) Euro(cents int64) string {
	s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	if p.Lang == "it" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return "€ " + s
}

// Date shows a time in the coop's time zone, in the page language's usual
// order.
func (p *page) Date(t time.Time) string {
	return t.In(p.loc()).Format(dayLayout(p.Lang) + " 15:04")
}

// loc is the coop's time zone (Europe/Rome for a page built without a UI,
// in tests).
func (p *page) loc() *time.Location {
	if p.u != nil {
		return p.u.d.Location
	}
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Zone is the coop's time zone's name, for scripts that show times.
func (p *page) Zone() string { return p.loc().String() }

// Clock is the wall-clock time of t in the coop's time zone ("10:00").
func (p *page) Clock(t time.Time) string { return t.In(p.loc()).Format("15:04") }

// Can reports whether the logged-in account may use a section.
func (p *page) Can(section string) bool { return p.Account != nil && may(p.Account.Role, section) }

// IsAdmin reports whether the account is a coop admin.
func (p *page) IsAdmin() bool { return p.Account != nil && p.Account.Role == auth.Admin }

// fieldError is one line of a form's error summary.
type fieldError struct{ ID, Msg string }

// ErrorList is the error summary: the form's, or one line per field with
// errors nobody labelled, in a stable order.
func (p *page) ErrorList() []fieldError {
	if len(p.Summary) > 0 {
		return p.Summary
	}
	var out []fieldError
	for _, f := range slices.Sorted(maps.Keys(p.Errors)) {
		out = append(out, fieldError{ID: fieldID(f), Msg: p.T("err." + p.Errors[f])})
	}
	return out
}

// Err is the translated error of a field, or "".
func (p *page) Err(name string) string {
	if c, ok := p.Errors[name]; ok {
		return p.T("err." + c)
	}
	return ""
}

func fieldID(name string) string {
	return "f-" + strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(name)
}
