package webui

import (
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/web"
)

func TestDayIn(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"28/03/2027", "2027-03-28", true},
		{" 1/4/2027 ", "2027-04-01", true},
		{"01.04.2027", "2027-04-01", true},
		{"2027-03-28", "2027-03-28", true},
		{"31/02/2027", "", false},
		{"03/28/2027", "", false}, // month first is no date here
		{"28/03/27", "", false},
		{"domani", "", false},
		{"", "", false},
	} {
		got, ok := dayIn(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("dayIn(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if dayOut("2027-03-28") != "28/03/2027" || dayOut("31/02/2027") != "31/02/2027" || dayOut("") != "" {
		t.Error("dayOut")
	}
}

// The middleware turns the typed dates a form names into ISO, in a POSTed
// form and in a GET form's query, and leaves other fields and the JSON API
// alone.
func TestDayFields(t *testing.T) {
	var got url.Values
	h := dayFields(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			got = r.PostForm
		} else {
			got = r.URL.Query()
		}
	}))
	form := url.Values{"_dates": {"start,until"}, "start": {"28/03/2027"}, "until": {"nope"}, "note": {"01/02/2027"}}
	req := httptest.NewRequest("POST", "/beneficiaries/x/schedules/new", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.Get("start") != "2027-03-28" || got.Get("until") != "nope" || got.Get("note") != "01/02/2027" {
		t.Fatalf("posted form: %v", got)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/dashboard?from=1%2F3%2F2027&to=2027-03-31&_dates=from,to", nil))
	if got.Get("from") != "2027-03-01" || got.Get("to") != "2027-03-31" {
		t.Fatalf("query: %v", got)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/x?from=1%2F3%2F2027&_dates=from", nil))
	if got.Get("from") != "1/3/2027" {
		t.Fatalf("the API's query was changed: %v", got)
	}
}

// No page has the browser's date picker left: every date is the typed
// day/month/year field ("dateinput", or the shared form field), so a
// browser set to English shows no month-first picker.
func TestNoNativeDatePicker(t *testing.T) {
	names, _ := fs.Glob(web.Templates(), "*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(web.Templates(), n)
		if strings.Contains(string(b), ` type="date"`) {
			t.Errorf("%s has a native date picker", n)
		}
	}
}

// badDays names the date fields that hold something that is no date,
// after dayFields has read the rest as ISO; empty fields are the
// handler's to require.
func TestBadDays(t *testing.T) {
	v := url.Values{datesField: {"start,valid_until", "check_date"}, "start": {"31/02/2026"}, "valid_until": {"31/12/2026"},
		"check_date": {""}, "other": {"31/02/2026"}}
	normalizeDays(v)
	if v.Get("valid_until") != "2026-12-31" {
		t.Fatalf("valid_until %q", v.Get("valid_until"))
	}
	bad := badDays(v)
	if len(bad) != 1 || bad["start"] != "bad_date" {
		t.Fatalf("badDays %v, want start only", bad)
	}
}

// DateIn draws a hand-laid form's date as the shared field does: the
// typed order, the placeholder in the page's language, the hidden
// "_dates" name, and aria-invalid with the error's id on a refused day.
func TestDateInField(t *testing.T) {
	c, pages := cataloguesAndPages(t)
	for _, lang := range []string{"it", "en"} {
		p := &page{cat: c, Lang: lang, Form: url.Values{"start": {"2026-12-31"}, "bad": {"31/02/2026"}}, Errors: map[string]string{"bad": "bad_date"}}
		var b strings.Builder
		if err := pages["request_form"].ExecuteTemplate(&b, "dateinput", p.DateIn("f-start", "start", "", true, "")); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, want := range []string{`type="text"`, `value="31/12/2026"`, `aria-required="true"`, `<input type="hidden" name="_dates" value="start">`, `placeholder="` + p.T("care3.date_placeholder") + `"`} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %s lacks %s", lang, got, want)
			}
		}
		b.Reset()
		if err := pages["request_form"].ExecuteTemplate(&b, "dateinput", p.DateIn("f-bad", "bad", "", false, "e-bad")); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); !strings.Contains(got, `value="31/02/2026"`) || !strings.Contains(got, `aria-invalid="true"`) || !strings.Contains(got, `aria-describedby="e-bad"`) {
			t.Errorf("%s: refused day drawn as %s", lang, got)
		}
		if msg := p.T("err.bad_date"); !strings.Contains(msg, "31/12/2026") {
			t.Errorf("%s: the bad-date message does not show how to type one: %q", lang, msg)
		}
	}
}

// DateInOf: on a page with one offer form per request, only the refused
// form's date shows what was typed, marked invalid and described by its
// error; the same field of the other forms stays blank and valid, and a
// good date of the refused form is shown back without an error.
func TestDateInOfOnlyTheRefusedForm(t *testing.T) {
	c, pages := cataloguesAndPages(t)
	p := &page{cat: c, Lang: "it", Form: url.Values{"start": {"31/02/2026"}, "valid_until": {"2026-12-31"}}, Errors: map[string]string{"start": "bad_date"}}
	draw := func(f field) string {
		var b strings.Builder
		if err := pages["requests_inbox"].ExecuteTemplate(&b, "dateinput", f); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got := draw(p.DateInOf(true, "s-1", "start", true, "e-s-1")); !strings.Contains(got, `value="31/02/2026"`) ||
		!strings.Contains(got, `aria-invalid="true"`) || !strings.Contains(got, `aria-describedby="e-s-1"`) {
		t.Errorf("refused form's bad date drawn as %s", got)
	}
	if got := draw(p.DateInOf(true, "v-1", "valid_until", true, "e-v-1")); !strings.Contains(got, `value="31/12/2026"`) ||
		strings.Contains(got, "aria-invalid") || strings.Contains(got, "aria-describedby") {
		t.Errorf("refused form's good date drawn as %s", got)
	}
	if got := draw(p.DateInOf(false, "s-2", "start", true, "e-s-2")); !strings.Contains(got, `value=""`) ||
		strings.Contains(got, "aria-invalid") || strings.Contains(got, "aria-describedby") || !strings.Contains(got, `aria-required="true"`) {
		t.Errorf("another form's date drawn as %s", got)
	}
}

// cataloguesAndPages loads the message catalogues and parses the pages.
func cataloguesAndPages(t *testing.T) (*catalogues, map[string]*template.Template) {
	t.Helper()
	c, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	pages, err := parsePages(web.Templates())
	if err != nil {
		t.Fatal(err)
	}
	return c, pages
}
