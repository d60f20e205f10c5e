package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates in forms are typed, not picked: a browser's own date picker shows
// the browser's locale (month first on an English system, whatever the
// page's language), and a 10-year-old browser may have none. A date field
// is a text field in the coop's order, day/month/year ("28/03/2027"), in
// both languages; the server also takes ISO dates (2027-03-28), so a form
// filled by a script or an old bookmark still works. The form names its
// date fields in a hidden "_dates" input; dayFields turns what was typed
// into ISO before any handler reads the form, so handlers and domains keep
// one date format.

// dayForm is the day/month/year a person types: 1 or 2 digits for day and
// month, 4 for the year, separated by "/", "." or "-".
var dayForm = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$`)

// dayIn reads a typed date as ISO (YYYY-MM-DD); false when it is no date.
func dayIn(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), true
	}
	m := dayForm.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	d, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	y, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != mo { // 31/02 is no date
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// dayOut shows an ISO date as a person types it (28/03/2027); anything
// else (a date typed wrong, shown back with its error) as it is.
func dayOut(iso string) string {
	if t, err := time.Parse("2006-01-02", iso); err == nil {
		return t.Format("02/01/2006")
	}
	return iso
}

// dayLayout is how the pages show a day: day/month/year in Italian
// (31/12/2026); in English the day, the month's short name and the year
// (31 Dec 2026), which no reader of either order can take the wrong way.
// Forms take dates typed day/month/year in both languages.
func dayLayout(lang string) string {
	if lang == "it" {
		return "02/01/2006"
	}
	return "2 Jan 2006"
}

// datesField is the hidden input that names a form's date fields.
const datesField = "_dates"

// normalizeDays rewrites the named date fields of v to ISO; a value that
// is no date stays as typed, for the handler to refuse.
func normalizeDays(v url.Values) {
	for _, list := range v[datesField] {
		for _, name := range strings.Split(list, ",") {
			for i, s := range v[name] {
				if iso, ok := dayIn(s); ok {
					v[name][i] = iso
				}
			}
		}
	}
}

// dayFields is the middleware that reads typed dates of the pages' forms
// (a POSTed form, or a GET form's query) as ISO. The JSON API is left
// alone.
func dayFields(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, datesField) {
			q := r.URL.Query()
			normalizeDays(q)
			r.URL.RawQuery = q.Encode()
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err == nil {
				normalizeDays(r.PostForm)
				normalizeDays(r.Form)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// DateIn is the date field of a form laid out by hand (the template
// "dateinput"): id and name of the input, its value (ISO; "" = the
// form's value of name), whether it is required, and the ids that
// describe it (help, error; "" = none). A value the form holds that is no
// date marks it invalid.
func (p *page) DateIn(id, name, value string, required bool, describedby string) field {
	if value == "" {
		value = p.V(name)
	}
	f := field{ID: id, Name: name, Kind: "date", Value: value, Required: required, Error: p.Err(name),
		Placeholder: p.T("care3.date_placeholder")}
	if describedby != "" {
		f.Help, f.HelpID = "-", describedby
	}
	return f
}

// DateInOf is DateIn for one of several forms of a page whose fields
// share names (the inbox's offer forms, one per request): the page's
// Form and Errors belong to the form that came back refused (own), which
// shows what was typed and, when the date is wrong, is described by its
// error errID; the other forms' fields stay blank.
func (p *page) DateInOf(own bool, id, name string, required bool, errID string) field {
	if !own {
		return field{ID: id, Name: name, Kind: "date", Required: required, Placeholder: p.T("care3.date_placeholder")}
	}
	if p.Err(name) == "" {
		errID = ""
	}
	return p.DateIn(id, name, "", required, errID)
}

// badDays returns a field error "bad_date" for every date field of the
// form (named in "_dates") that holds something that is no date: what was
// typed reaches the handler as it is, and the handler shows this error
// beside the field.
func badDays(v url.Values) map[string]string {
	bad := map[string]string{}
	for _, list := range v[datesField] {
		for _, name := range strings.Split(list, ",") {
			for _, s := range v[name] {
				if _, ok := dayIn(s); !ok && strings.TrimSpace(s) != "" {
					bad[name] = "bad_date"
				}
			}
		}
	}
	return bad
}
