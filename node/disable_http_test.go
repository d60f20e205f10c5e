package node_test

import (
	"net/http"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/httpx"
)

// TestDisabledAccountLosesItsSessions: an account logged in twice, once
// used as a bearer token and once as the browser's session cookie, loses
// both the moment an admin disables it.
func TestDisabledAccountLosesItsSessions(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	adm := login(t, n, "admin", "ponte-di-vetro-42")
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "anna", "role": "operator", "password": "tramonto-sul-lago-blu"}, nil)
	bearer := login(t, n, "anna", "tramonto-sul-lago-blu").token
	cookie := login(t, n, "anna", "tramonto-sul-lago-blu").token

	me := func(set func(*http.Request)) int {
		t.Helper()
		req, err := http.NewRequest("GET", n.URL()+"/api/v1/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	byBearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+bearer) }
	byCookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: cookie}) }
	if b, c := me(byBearer), me(byCookie); b != http.StatusOK || c != http.StatusOK {
		t.Fatalf("before disabling: bearer %d, cookie %d", b, c)
	}

	adm.call(http.StatusOK, "PUT", "/api/v1/accounts/anna", map[string]any{"role": "operator", "disabled": true}, nil)
	if b, c := me(byBearer), me(byCookie); b != http.StatusUnauthorized || c != http.StatusUnauthorized {
		t.Fatalf("after disabling: bearer %d, cookie %d; want both %d", b, c, http.StatusUnauthorized)
	}
}
