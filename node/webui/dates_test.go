package webui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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
