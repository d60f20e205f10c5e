package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
)

// A role with many pages gets them in named groups, a role with few in one
// line; a group of one link is that link.
func TestNavGroups(t *testing.T) {
	u, err := newUI(nil, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	p := &page{u: u, cat: u.cat, Lang: "it"}
	r := httptest.NewRequest(http.MethodGet, "/caregivers/x", nil)
	labels := func(gs []navGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Label)
		}
		return out
	}
	// Every section runs (calls, cases, qualification...) for an admin.
	all := u.navOf(p, r, auth.Admin, func(string) bool { return true })
	if got, want := labels(all), []string{"Inizio", "Persone", "Chiamate", "Servizi", "Federazione", "Amministrazione"}; !slices.Equal(got, want) {
		t.Fatalf("admin menu %v, want %v", got, want)
	}
	people := all[1]
	if people.Href != "" || !people.Current || len(people.Items) != 5 || people.Items[1].Href != "/caregivers" || !people.Items[1].Current ||
		people.Items[4].Href != "/lavoratori" {
		t.Errorf("people group %+v: want five links (with the workshop and the family assistants), caregivers current", people)
	}
	if svc := all[3]; svc.Items[0].Href != "/catalogo" || svc.Items[0].Label != "Catalogo dei servizi" {
		t.Errorf("services group %+v: want the catalogue first", svc)
	}
	// The operator has a handful of pages: one line, the catalogue in it.
	op := u.navOf(p, r, auth.Operator, func(string) bool { return true })
	for _, g := range op {
		if len(g.Items) > 0 {
			t.Errorf("operator menu has group %s", g.Label)
		}
	}
	for _, href := range []string{"/catalogo", "/lavoratori"} {
		if !slices.ContainsFunc(op, func(g navGroup) bool { return g.Href == href }) {
			t.Errorf("operator menu %v lacks %s", labels(op), href)
		}
	}
	// A citizen finds a family assistant from the menu.
	cit := u.navOf(p, r, auth.Citizen, func(string) bool { return true })
	if !slices.ContainsFunc(cit, func(g navGroup) bool { return g.Href == "/lavoro" }) {
		t.Errorf("citizen menu %v lacks /lavoro", labels(cit))
	}
}

// An unknown page is the error page in the site's layout, in the asked
// language; the JSON API keeps its JSON 404.
func TestNotFoundInLayout(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ lang, title string }{{"it", "Pagina non trovata"}, {"en", "Page not found"}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/non/esiste", nil)
		req.Header.Set("Accept-Language", c.lang)
		res, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		_, _ = io.Copy(b, res.Body)
		res.Body.Close()
		body := b.String()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", c.lang, res.StatusCode)
		}
		for _, want := range []string{`<html lang="` + c.lang + `">`, "<title>" + c.title + " · ", `<main id="main"`, `<header class="top">`, `<footer class="bottom">`, `class="skip"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s 404 page lacks %s", c.lang, want)
			}
		}
		checkPage(t, "/non/esiste", body)
	}
	res, body := e.get(e.client(), "/api/v1/non-esiste")
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/") || !regexp.MustCompile(`"code"`).MatchString(body) {
		t.Errorf("API 404: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, body = e.post(e.client(), "/catalogo", nil)
	if res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != http.StatusNotFound || !strings.Contains(body, `<main id="main"`) {
		t.Errorf("POST /catalogo: %d, want an error page in the layout", res.StatusCode)
	}
}
