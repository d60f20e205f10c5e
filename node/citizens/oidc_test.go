package citizens_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/httpx"
)

// mockOP is an OpenID Connect provider on loopback: discovery, JWKS and a
// token endpoint whose ID tokens the test shapes (audience, signing key).
type mockOP struct {
	t    *testing.T
	srv  *httptest.Server
	key  *rsa.PrivateKey // the key the JWKS publishes
	clk  *fakeclock.Clock
	mu   sync.Mutex
	code map[string]grant // issued codes

	// What the next ID token is made of.
	audience string
	signWith *rsa.PrivateKey
	claims   map[string]any
}

type grant struct{ nonce, challenge string }

func newMockOP(t *testing.T, clk *fakeclock.Clock) *mockOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &mockOP{t: t, key: key, clk: clk, code: map[string]grant{}, audience: "difronte-nodo", signWith: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := op.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize",
			"token_endpoint": u + "/token", "jwks_uri": u + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("POST /token", op.token)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// authorize plays the user logging in at the provider: it takes the
// node's redirect and returns a code for it.
func (op *mockOP) authorize(to string) (code, state string) {
	op.t.Helper()
	u, err := url.Parse(to)
	if err != nil || !strings.HasPrefix(to, op.srv.URL+"/authorize") {
		op.t.Fatalf("redirect to %q, want the provider", to)
	}
	q := u.Query()
	if q.Get("client_id") != "difronte-nodo" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
		op.t.Fatalf("authorization request %v", q)
	}
	code = base64.RawURLEncoding.EncodeToString([]byte(q.Get("state")))[:20]
	op.mu.Lock()
	op.code[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	op.mu.Unlock()
	return code, q.Get("state")
}

func (op *mockOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	op.mu.Lock()
	g, ok := op.code[r.PostForm.Get("code")]
	delete(op.code, r.PostForm.Get("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: op.signWith, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Error(err)
		return
	}
	now := op.clk.Now()
	std := jwt.Claims{Issuer: op.srv.URL, Subject: "sub-1234", Audience: jwt.Audience{op.audience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}
	extra := map[string]any{"nonce": g.nonce}
	for k, v := range op.claims {
		extra[k] = v
	}
	raw, err := jwt.Signed(sig).Claims(std).Claims(extra).Serialize()
	if err != nil {
		op.t.Error(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
}

// oidcRig is a node configured for the mock provider.
func oidcRig(t *testing.T) (*rig, *mockOP) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	op := newMockOP(t, clk)
	r := newRig(t, rigOpts{oidc: &citizens.OIDCConfig{Issuer: op.srv.URL, ClientID: "difronte-nodo", ClientSecret: "segreto-del-client",
		RedirectURL: "https://nodo.example" + citizens.OIDCCallbackPath, HTTPClient: op.srv.Client()}})
	op.clk = r.clk
	op.claims = map[string]any{"name": "Teresa Russo", "email": "teresa@example.org", "email_verified": true, "fiscal_number": "TINIT-RSSTRS80A41H501X"}
	return r, op
}

// get sends a GET without following redirects.
func (r *rig) get(path string, cookies ...*http.Cookie) *http.Response {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.srv.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	cl := *r.srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := cl.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func cookieOf(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name && c.MaxAge >= 0 && c.Value != "" {
			return c
		}
	}
	return nil
}

// startLogin begins a login at the node and at the provider: the state
// cookie, the code and the state.
func startLogin(t *testing.T, r *rig, op *mockOP) (*http.Cookie, string, string) {
	t.Helper()
	res := r.get(citizens.OIDCLoginPath)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login start: %d", res.StatusCode)
	}
	ck := cookieOf(res, "difronte_oidc")
	if ck == nil {
		t.Fatal("no state cookie")
	}
	code, state := op.authorize(res.Header.Get("Location"))
	return ck, code, state
}

func callback(r *rig, ck *http.Cookie, code, state string) *http.Response {
	return r.get(citizens.OIDCCallbackPath+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state), ck)
}

func TestOIDCLogin(t *testing.T) {
	r, op := oidcRig(t)
	ck, code, state := startLogin(t, r, op)
	res := callback(r, ck, code, state)
	sess := cookieOf(res, httpx.SessionCookie)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/area-personale" || sess == nil {
		t.Fatalf("callback: %d to %q, session %v", res.StatusCode, res.Header.Get("Location"), sess)
	}
	var p citizens.Profile
	if code := r.call("GET", "/api/v1/me/citizen", sess.Value, nil, &p); code != 200 {
		t.Fatalf("profile: %d", code)
	}
	if p.Origin != citizens.FromOIDC || p.DisplayName != "Teresa Russo" || p.Email != "teresa@example.org" || p.FiscalCode != "TINIT-RSSTRS80A41H501X" {
		t.Fatalf("profile %+v", p)
	}
	if a, _ := r.auth.Get(p.Username); a.Role != auth.Citizen {
		t.Fatalf("role %s", a.Role)
	}
	// The fiscal code stays private: not in the audit log.
	evs, _ := r.audit.Query(t.Context(), auditAll())
	for _, e := range evs {
		if b, _ := json.Marshal(e); strings.Contains(string(b), "RSSTRS80") || strings.Contains(string(b), "Teresa") {
			t.Fatalf("audit event holds personal data: %s", b)
		}
	}

	// The same subject logs in again: the same account.
	ck, code, state = startLogin(t, r, op)
	res = callback(r, ck, code, state)
	var me struct{ Username string }
	if s := cookieOf(res, httpx.SessionCookie); s == nil || r.call("GET", "/api/v1/me", s.Value, nil, &me) != 200 || me.Username != p.Username {
		t.Fatalf("second login: %+v, want %s", me, p.Username)
	}

	// A replayed state (and code) is refused.
	res = callback(r, ck, code, state)
	if cookieOf(res, httpx.SessionCookie) != nil || res.Header.Get("Location") != "/login?oidc=failed" {
		t.Fatalf("replayed state: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestOIDCRefusals(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		shape func(op *mockOP)
		cheat func(ck *http.Cookie, code, state string) (*http.Cookie, string, string)
	}{
		{"wrong audience", func(op *mockOP) { op.audience = "another-client" }, nil},
		{"bad signature", func(op *mockOP) { op.signWith = other }, nil},
		{"state of another browser", nil, func(ck *http.Cookie, code, state string) (*http.Cookie, string, string) {
			return &http.Cookie{Name: ck.Name, Value: "someone-else"}, code, state
		}},
		{"forged state", nil, func(ck *http.Cookie, code, _ string) (*http.Cookie, string, string) {
			return &http.Cookie{Name: ck.Name, Value: "forged"}, code, "forged"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, op := oidcRig(t)
			if c.shape != nil {
				c.shape(op)
			}
			ck, code, state := startLogin(t, r, op)
			if c.cheat != nil {
				ck, code, state = c.cheat(ck, code, state)
			}
			res := callback(r, ck, code, state)
			if cookieOf(res, httpx.SessionCookie) != nil || res.Header.Get("Location") != "/login?oidc=failed" {
				t.Fatalf("%d to %q, want refused", res.StatusCode, res.Header.Get("Location"))
			}
			if len(r.cit.Assisted()) != 0 || r.auth.Count() != 0 {
				t.Fatal("an account was created")
			}
			evs, _ := r.audit.Query(t.Context(), auditAll())
			if len(evs) == 0 || evs[0].Action != "login_failed" || evs[0].Detail != "oidc" {
				t.Fatalf("refusal not audited: %+v", evs)
			}
		})
	}
}

func auditAll() audit.Filter { return audit.Filter{Limit: 500} }

func TestOIDCComesBackAfterDeletion(t *testing.T) {
	r, op := oidcRig(t)
	ck, code, state := startLogin(t, r, op)
	sess := cookieOf(callback(r, ck, code, state), httpx.SessionCookie)
	if sess == nil {
		t.Fatal("first login refused")
	}
	var me struct{ Username string }
	r.call("GET", "/api/v1/me", sess.Value, nil, &me)
	if code := r.call("DELETE", "/api/v1/me/citizen", sess.Value, nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	ck, code, state = startLogin(t, r, op)
	sess = cookieOf(callback(r, ck, code, state), httpx.SessionCookie)
	var again struct{ Username string }
	if sess == nil || r.call("GET", "/api/v1/me", sess.Value, nil, &again) != 200 || again.Username == me.Username || again.Username == "" {
		t.Fatalf("login after deletion: %+v, want a new account other than %s", again, me.Username)
	}
}
