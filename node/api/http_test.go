package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoginBearerCookieLogout(t *testing.T) {
	e := newEnv(t)
	var login struct {
		Token   string
		Expires time.Time
		Role    string
	}
	e.must(http.StatusOK, "POST", "/api/v1/login", "", map[string]string{"username": "anna", "password": pw}, &login)
	if login.Token == "" || login.Role != "caregiver" || !login.Expires.After(time.Now()) {
		t.Fatalf("login answered %+v", login)
	}
	for name, hdr := range map[string][]string{
		"bearer": {"Authorization", "Bearer " + login.Token},
		"cookie": {"Cookie", "difronte_session=" + login.Token},
	} {
		code, body, _ := e.do("GET", "/api/v1/me", "", nil, hdr...)
		var me struct{ Username, Role string }
		json.Unmarshal(body, &me)
		if code != http.StatusOK || me.Username != "anna" {
			t.Fatalf("%s auth: %d %s", name, code, body)
		}
	}
	// A bad bearer header does not fall back to the cookie.
	code, _, _ := e.do("GET", "/api/v1/me", "", nil, "Authorization", "Token "+login.Token, "Cookie", "difronte_session="+login.Token)
	if code != http.StatusUnauthorized {
		t.Fatalf("malformed Authorization accepted: %d", code)
	}
	code, _, hdr := e.do("POST", "/api/v1/logout", "", nil, "Authorization", "Bearer "+login.Token)
	if code != http.StatusNoContent || !strings.Contains(hdr.Get("Set-Cookie"), "difronte_session=;") {
		t.Fatalf("logout: %d, Set-Cookie %q", code, hdr.Get("Set-Cookie"))
	}
	if code, _, _ := e.do("GET", "/api/v1/me", "", nil, "Authorization", "Bearer "+login.Token); code != http.StatusUnauthorized {
		t.Fatalf("token still valid after logout: %d", code)
	}
	// A disabled account loses its sessions at once.
	e.must(http.StatusOK, "PUT", "/api/v1/accounts/bruno", "admin", map[string]any{"role": "caregiver", "caregiver_id": e.cg2, "disabled": true}, nil)
	if code, _, _ := e.do("GET", "/api/v1/me", "bruno", nil); code != http.StatusUnauthorized {
		t.Fatalf("disabled account still served: %d", code)
	}
	code, body, _ := e.do("POST", "/api/v1/login", "", map[string]string{"username": "bruno", "password": pw})
	if code != http.StatusUnauthorized || errBody(t, body).Code != "bad_credentials" {
		t.Fatalf("disabled account logged in: %d %s", code, body)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 5; i++ {
		code, body, _ := e.do("POST", "/api/v1/login", "", map[string]string{"username": "anna", "password": "sbagliata-" + string(rune('0'+i))})
		if code != http.StatusUnauthorized || errBody(t, body).Code != "bad_credentials" {
			t.Fatalf("attempt %d: %d %s", i, code, body)
		}
	}
	code, body, hdr := e.do("POST", "/api/v1/login", "", map[string]string{"username": "anna", "password": "sbagliata-6"})
	if code != http.StatusTooManyRequests || errBody(t, body).Code != "rate_limited" {
		t.Fatalf("6th wrong attempt: %d %s", code, body)
	}
	// The wait is told, in seconds: a minute after the 5th failure.
	if ra, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 seconds", hdr.Get("Retry-After"))
	}
	// Even the right password waits out the window.
	code, _, _ = e.do("POST", "/api/v1/login", "", map[string]string{"username": "anna", "password": pw})
	if code != http.StatusTooManyRequests {
		t.Fatalf("right password during lockout: %d", code)
	}
	// Another user is not locked out.
	e.must(http.StatusOK, "POST", "/api/v1/login", "", map[string]string{"username": "bruno", "password": pw}, nil)
	var list struct {
		Events []struct{ Action, Detail, Actor string }
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit?kind=session&actor=anna", "admin", nil, &list)
	failed, limited := 0, 0
	for _, ev := range list.Events {
		if ev.Action == "login_failed" {
			failed++
			if ev.Detail == "rate_limited" {
				limited++
			}
		}
	}
	if failed != 7 || limited != 2 {
		t.Fatalf("audit has %d failed logins (%d rate limited), want 7 (2)", failed, limited)
	}
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot()
	for _, c := range []struct {
		method, path string
		hdr          []string
	}{
		{"POST", "/api/v1/beneficiaries", []string{"Sec-Fetch-Site", "cross-site"}},
		{"PUT", "/api/v1/caregivers/" + e.cg1, []string{"Sec-Fetch-Site", "same-site"}},
		{"DELETE", "/api/v1/caregivers/" + e.cg1, []string{"Sec-Fetch-Site", "cross-site"}},
		{"POST", "/api/v1/login", []string{"Origin", "https://evil.example"}},
	} {
		body := any(beneficiary("Ada"))
		if c.path == "/api/v1/login" {
			body = map[string]string{"username": "anna", "password": pw}
		}
		code, out, _ := e.do(c.method, c.path, "admin", body, c.hdr...)
		if code != http.StatusForbidden {
			t.Errorf("%s %s with %v: %d %s", c.method, c.path, c.hdr, code, out)
		}
	}
	if e.snapshot() != before {
		t.Fatal("a cross-origin request changed the store")
	}
	// Same-origin browsers and non-browser clients still write.
	e.must(http.StatusCreated, "POST", "/api/v1/caregivers", "admin", map[string]any{"name": "Carla"}, nil)
	code, _, _ := e.do("POST", "/api/v1/caregivers", "admin", map[string]any{"name": "Dora"}, "Sec-Fetch-Site", "same-origin")
	if code != http.StatusCreated {
		t.Fatalf("same-origin write: %d", code)
	}
	// Reads are safe methods: allowed cross-site (the session cookie is SameSite=Strict anyway).
	if code, _, _ := e.do("GET", "/api/v1/node", "", nil, "Sec-Fetch-Site", "cross-site"); code != http.StatusOK {
		t.Fatalf("cross-site GET: %d", code)
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/api/v1/node", "/api/v1/me", "/api/v1/nope", "/nope"} {
		_, _, h := e.do("GET", p, "", nil)
		for k, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "same-origin",
			"Content-Security-Policy": "frame-ancestors 'none'",
		} {
			if !strings.Contains(h.Get(k), want) {
				t.Errorf("%s: %s = %q, want %q", p, k, h.Get(k), want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: weak CSP %q", p, csp)
		}
	}
	_, _, h := e.do("GET", "/api/v1/me", "admin", nil)
	if h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("private answer headers: %v", h)
	}
	code, _, h := e.do("POST", "/api/v1/login", "", map[string]string{"username": "anna", "password": pw})
	if code != http.StatusOK || h.Get("Set-Cookie") != "" {
		t.Errorf("API login must not set a cookie (the web UI does): %d %q", code, h.Get("Set-Cookie"))
	}
}

func TestHealthNodeAndMetrics(t *testing.T) {
	e := newEnv(t)
	var st map[string]string
	e.must(http.StatusOK, "GET", "/healthz", "", nil, &st)
	if st["status"] != "ok" {
		t.Fatalf("healthz %v", st)
	}
	e.must(http.StatusOK, "GET", "/readyz", "", nil, &st)
	if st["status"] != "ready" {
		t.Fatalf("readyz %v", st)
	}
	var info struct {
		PeerID   string   `json:"peer_id"`
		CoopName string   `json:"coop_name"`
		Addrs    []string `json:"addrs"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/node", "", nil, &info)
	if info.PeerID != "12D3KooWtest" || info.CoopName != "Coop di prova" || info.Addrs == nil {
		t.Fatalf("node info %+v", info)
	}
	var tax struct{ Terms []struct{ Code string } }
	e.must(http.StatusOK, "GET", "/api/v1/taxonomy", "", nil, &tax)
	if len(tax.Terms) < 20 {
		t.Fatalf("taxonomy has %d terms", len(tax.Terms))
	}
	var mun struct{ Results []struct{ Code, Name string } }
	e.must(http.StatusOK, "GET", "/api/v1/municipalities?q=reggio%20di", "", nil, &mun)
	found := false
	for _, m := range mun.Results {
		found = found || m.Code == "080063"
	}
	if !found {
		t.Fatalf("municipality search: %+v", mun)
	}

	// Metrics count by route template: a record's id and name never appear.
	const canary = "Zebedeo Canarino"
	id := e.createBeneficiary(canary, e.cg1)
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+id, "anna", nil, nil)
	e.do("GET", "/api/v1/beneficiaries/"+id+"x", "admin", nil)
	e.do("GET", "/no/such/"+id, "admin", nil)
	code, body, _ := e.do("GET", "/metrics", "", nil)
	m := string(body)
	if code != http.StatusOK || !strings.Contains(m, `difronte_http_requests_total{code="200",method="GET",route="/api/v1/beneficiaries/{id}"}`) {
		t.Fatalf("metrics lack the route template: %d\n%s", code, m)
	}
	if strings.Contains(m, id) || strings.Contains(m, "Zebedeo") || strings.Contains(m, "Canarino") {
		t.Fatal("metrics hold a record id or name")
	}
	if !strings.Contains(m, `route="unmatched"`) {
		t.Fatal("unmatched paths are not folded into one label")
	}
}
