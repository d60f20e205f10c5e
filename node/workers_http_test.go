package node_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/testnet/nodetest"
)

// TestWorkersContract walks the routes of issue 16's contract on one
// federated node: a worker registered, read, changed, refused while it
// hides a phone number, published, found by the public search (strict
// about its parameters), withdrawn; a family request and its matches;
// the cost estimate; a caregiver refused, and every read audited.
func TestWorkersContract(t *testing.T) {
	n := nodetest.Start(t, node.Config{CoopName: "Cooperativa Sole"})[0]
	c := login(t, n, "admin", nodetest.AdminPassword)
	today := time.Now().UTC().Format(time.DateOnly)
	body := map[string]any{
		"full_name": "Elena Popescu", "phone": "+39 347 000 1111",
		"consent": map[string]any{"given": true, "date": today},
		"check":   map[string]any{"identity_seen": true, "date": today},
		"profile": map[string]any{"alias": "Elena P.", "work": []string{"elderly"}, "experience_years": 3, "languages": []string{"ro", "it"},
			"areas": []string{"015209"}, "availability": map[string]any{"days": []string{"MO"}, "hours_per_week": 30},
			"pay": map[string]any{"amount_cents": 900, "unit": "hour"}, "presentation": "Chiamatemi al tre quattro sette uno due tre quattro cinque sei"},
	}
	c.call(http.StatusBadRequest, "POST", "/api/v1/workers", body, nil)
	body["profile"].(map[string]any)["presentation"] = "Assisto anziani con pazienza."
	var w struct{ ID, Status string }
	c.call(http.StatusCreated, "POST", "/api/v1/workers", body, &w)
	if w.Status != "draft" {
		t.Fatalf("status %q", w.Status)
	}
	c.call(http.StatusOK, "GET", "/api/v1/workers/"+w.ID, nil, nil)
	body["full_name"] = "Elena Popescu Ionescu"
	c.call(http.StatusOK, "PUT", "/api/v1/workers/"+w.ID, body, nil)
	c.call(http.StatusConflict, "POST", "/api/v1/workers/"+w.ID+"/withdraw", nil, nil)
	c.call(http.StatusOK, "POST", "/api/v1/workers/"+w.ID+"/publish", nil, &w)
	if w.Status != "published" {
		t.Fatalf("status %q", w.Status)
	}

	pub := &client{t: t, base: n.URL()}
	var found struct {
		Total  int
		Facets map[string][]struct {
			Value string
			Count int
		}
	}
	pub.call(http.StatusOK, "GET", "/api/v1/workers/search?municipality=015209&lang=ro&facets=all", nil, &found)
	if found.Total != 1 || len(found.Facets["work"]) != 1 {
		t.Fatalf("search: %+v", found)
	}
	for _, bad := range []string{"?colour=red", "?work=gardening", "?municipality=999999", "?page=0", "?lang=ro&lang=it", "?live_in=maybe"} {
		pub.call(http.StatusBadRequest, "GET", "/api/v1/workers/search"+bad, nil, nil)
	}
	pub.call(http.StatusOK, "GET", "/api/v1/worker-profiles/"+n.PeerID()+"/"+w.ID, nil, nil)
	for _, page := range []string{"/lavoro", "/lavoro?work=elderly&night=true", "/lavoro/" + w.ID, "/lavoro/costo?hours=20&level=DS"} {
		pub.page(http.StatusOK, page)
	}
	pub.page(http.StatusNotFound, "/lavoro/00000000-0000-4000-8000-000000000000")
	for _, page := range []string{"/lavoratori", "/lavoratori/nuovo", "/lavoratori/" + w.ID} {
		c.page(http.StatusOK, page)
	}
	form := url.Values{"full_name": {"Oksana Kovalenko"}, "alias": {"Oksana"}, "work": {"domestic"}, "municipality": {"Sesto San Giovanni"},
		"languages": {"uk it"}, "hours_per_week": {"20"}, "pay": {"900"}, "consent": {"on"}, "consent_date": {today},
		"identity_seen": {"on"}, "check_date": {today}, "presentation": {"Pulizie e stiro."}}
	c.post(http.StatusSeeOther, "/lavoratori/nuovo", form)
	form.Set("presentation", "scrivetemi a oksana chiocciola libero punto it")
	c.post(http.StatusBadRequest, "/lavoratori/nuovo", form)
	pub.call(http.StatusUnauthorized, "POST", "/api/v1/family-requests", map[string]any{}, nil)

	var req struct{ ID string }
	c.call(http.StatusCreated, "POST", "/api/v1/family-requests", map[string]any{"work": "elderly", "hours_per_week": 30,
		"languages": []string{"ro"}, "municipality": "015209", "budget_cents": 100000}, &req)
	var ms struct {
		Matches []struct {
			Reasons []struct{ Code, Text string }
		}
	}
	c.call(http.StatusOK, "GET", "/api/v1/family-requests/"+req.ID+"/matches", nil, &ms)
	if len(ms.Matches) != 1 || len(ms.Matches[0].Reasons) == 0 {
		t.Fatalf("matches: %+v", ms)
	}
	var none struct{ ID string }
	c.call(http.StatusCreated, "POST", "/api/v1/family-requests", map[string]any{"work": "babysitting", "hours_per_week": 10, "municipality": "015146"}, &none)
	c.call(http.StatusOK, "GET", "/api/v1/family-requests/"+none.ID+"/matches", nil, nil)
	var demand struct {
		Unmatched []struct {
			Municipality, Work string
			Requests           int
		}
	}
	c.call(http.StatusOK, "GET", "/api/v1/family-demand", nil, &demand)
	if len(demand.Unmatched) != 1 || demand.Unmatched[0].Work != "babysitting" || demand.Unmatched[0].Requests != 1 {
		t.Fatalf("demand: %+v", demand)
	}

	var est struct {
		Estimate   bool
		MonthlyPay int64 `json:"monthly_pay_cents"`
	}
	pub.call(http.StatusOK, "GET", "/api/v1/cost-estimate?hours=54&live_in=true&level=BS", nil, &est)
	if !est.Estimate || est.MonthlyPay != 105339 {
		t.Fatalf("estimate: %+v", est)
	}
	pub.call(http.StatusBadRequest, "GET", "/api/v1/cost-estimate?hours=54&level=Z", nil, nil)

	c.call(http.StatusOK, "POST", "/api/v1/workers/"+w.ID+"/withdraw", nil, &w)
	pub.call(http.StatusNotFound, "GET", "/api/v1/worker-profiles/"+n.PeerID()+"/"+w.ID, nil, nil)

	ctx := context.Background()
	if _, err := n.Auth().Create(ctx, auth.Account{Username: "carer1", Role: auth.Caregiver, DisplayName: "Caregiver"}, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	cg := login(t, n, "carer1", "tramonto-sul-lago-blu")
	cg.call(http.StatusForbidden, "GET", "/api/v1/workers/"+w.ID, nil, nil)
	cg.call(http.StatusForbidden, "GET", "/api/v1/family-requests/"+req.ID, nil, nil)

	evs, err := n.Audit().Query(ctx, audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e.Kind+" "+string(e.Action)] = true
	}
	for _, want := range []string{"worker create", "worker read", "worker update", "worker denied", "family_request create", "family_request read", "family_request denied"} {
		if !seen[want] {
			t.Errorf("no audit event %q", want)
		}
	}
}

// page GETs a web page and checks its status (a template error is a 500).
func (c *client) page(want int, path string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		c.t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
	}
}

// post sends a form as a browser would and checks the status (no redirect followed).
func (c *client) post(want int, path string, form url.Values) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		c.t.Fatalf("POST %s: %d, want %d", path, resp.StatusCode, want)
	}
}
