package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
)

// A contact's alert e-mails are in the language chosen on the person's
// form (Italiano, English, or the coop's); anything else is refused on
// that contact's row; the form shows the choice back.
func TestContactLanguageOnBeneficiaryForm(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin")
	form := url.Values{"name": {"Pia Neri"}, "address": {"Via Garibaldi 3"}, "municipality": {"Reggio di Calabria"},
		"contacts.0.kind": {"family"}, "contacts.0.name": {"Luca Neri"}, "contacts.0.email": {"luca@example.org"}, "contacts.0.lang": {"fr"},
		"contacts.1.kind": {"gp"}, "contacts.1.name": {"Dott. Bruni"}, "contacts.1.email": {"bruni@example.org"}}
	res, body := e.post(c, "/beneficiaries/new", form)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-contacts-0-lang"`) {
		t.Fatalf("a language the coop does not write in: %d", res.StatusCode)
	}
	for _, want := range []string{`<label for="f-contacts-0-lang">Lingua delle e-mail di allerta`, `<option value="">Quella della cooperativa</option>`, `<option value="en">English</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	form.Set("contacts.0.lang", "en")
	res, _ = e.post(c, "/beneficiaries/new", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/beneficiaries/")
	b, err := e.care.Beneficiary(context.Background(), auth.Actor{Username: "admin", Role: auth.Admin}, id)
	if err != nil || len(b.Contacts) != 2 || b.Contacts[0].Lang != "en" || b.Contacts[1].Lang != "" {
		t.Fatalf("stored contacts %+v %v", b.Contacts, err)
	}
	_, body = e.get(c, "/beneficiaries/"+id+"/edit")
	if !strings.Contains(body, `<option value="en" selected>English</option>`) {
		t.Error("the edit form does not show the chosen language")
	}
	srv, _ := url.Parse(e.srv.URL)
	c.Jar.SetCookies(srv, []*http.Cookie{{Name: LangCookie, Value: "en", Path: "/"}})
	_, body = e.get(c, "/beneficiaries/"+id+"/edit")
	if !strings.Contains(body, `Language of alert e-mails`) || !strings.Contains(body, `<option value="">The coop&#39;s</option>`) {
		t.Error("English form lacks the language select")
	}
}
