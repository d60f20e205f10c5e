package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/httpx"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res, body := e.get(c, "/login")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", res.StatusCode)
	}
	checkPage(t, "/login", body)

	res, body = e.post(c, "/login", url.Values{"username": {"admin"}, "password": {"sbagliata-di-sicuro"}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", res.StatusCode)
	}
	for _, want := range []string{`id="errsum"`, `role="alert"`, `aria-invalid="true"`, `aria-describedby="e-password"`, `id="e-password"`, `value="admin"`} {
		if !strings.Contains(body, want) {
			t.Errorf("wrong password page lacks %s", want)
		}
	}
	res, body = e.post(c, "/login", url.Values{})
	if res.StatusCode != http.StatusBadRequest || strings.Count(body, `aria-invalid="true"`) != 2 {
		t.Errorf("empty login: %d, want 400 with both fields invalid", res.StatusCode)
	}

	res, _ = e.post(c, "/login", url.Values{"username": {"admin"}, "password": {pw}, "next": {"/audit"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/audit" {
		t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == httpx.SessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Value == "" {
		t.Fatalf("session cookie: %+v", session)
	}
	// An open redirect is refused.
	res, _ = e.post(e.client(), "/login", url.Values{"username": {"admin"}, "password": {pw}, "next": {"//evil.example/"}})
	if res.Header.Get("Location") != "/" {
		t.Errorf("next=//evil: redirected to %q", res.Header.Get("Location"))
	}
	if res, _ := e.get(c, "/"); res.StatusCode != http.StatusOK {
		t.Errorf("home after login: %d", res.StatusCode)
	}
	res, _ = e.post(c, "/logout", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", res.StatusCode)
	}
	res, body = e.get(c, "/login")
	if !strings.Contains(body, `role="status"`) || !strings.Contains(body, "<p>Sei uscito") {
		t.Errorf("no logout flash in status region")
	}
	if res, _ := e.get(c, "/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("home after logout: %d", res.StatusCode)
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin")
	res, _ := e.post(c, "/lang", url.Values{"lang": {"en"}, "next": {"/beneficiaries"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/beneficiaries" {
		t.Fatalf("lang: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := e.get(c, "/beneficiaries")
	if !strings.Contains(body, `<html lang="en"`) || !strings.Contains(body, "<h1>Beneficiaries</h1>") {
		t.Errorf("page not in English after switching")
	}
	if res, _ := e.post(c, "/lang", url.Values{"lang": {"it"}, "next": {"https://evil.example/"}}); res.Header.Get("Location") != "/" {
		t.Errorf("lang next to another site: %q", res.Header.Get("Location"))
	}
}
