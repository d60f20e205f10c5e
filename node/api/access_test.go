package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
)

// endpoint is one API route with a concrete path and a valid-looking body.
type endpoint struct {
	method, template, path string
	body                   any
}

func (e *env) endpoints(benID, termID, offID string) []endpoint {
	return []endpoint{
		{"POST", "/api/v1/login", "/api/v1/login", map[string]string{"username": "x", "password": "y"}},
		{"POST", "/api/v1/logout", "/api/v1/logout", nil},
		{"GET", "/api/v1/me", "/api/v1/me", nil},
		{"GET", "/api/v1/node", "/api/v1/node", nil},
		{"GET", "/api/v1/taxonomy", "/api/v1/taxonomy", nil},
		{"GET", "/api/v1/municipalities", "/api/v1/municipalities?q=mil", nil},
		{"GET", "/api/v1/accounts", "/api/v1/accounts", nil},
		{"POST", "/api/v1/accounts", "/api/v1/accounts", map[string]any{"username": "nuovo", "role": "operator", "password": pw}},
		{"GET", "/api/v1/accounts/{username}", "/api/v1/accounts/anna", nil},
		{"PUT", "/api/v1/accounts/{username}", "/api/v1/accounts/anna", map[string]any{"role": "caregiver", "caregiver_id": e.cg1}},
		{"GET", "/api/v1/beneficiaries", "/api/v1/beneficiaries", nil},
		{"POST", "/api/v1/beneficiaries", "/api/v1/beneficiaries", beneficiary("Nuova Persona")},
		{"GET", "/api/v1/beneficiaries/{id}", "/api/v1/beneficiaries/" + benID, nil},
		{"PUT", "/api/v1/beneficiaries/{id}", "/api/v1/beneficiaries/" + benID, beneficiary("Cambiata")},
		{"DELETE", "/api/v1/beneficiaries/{id}", "/api/v1/beneficiaries/" + benID, nil},
		{"GET", "/api/v1/caregivers", "/api/v1/caregivers", nil},
		{"POST", "/api/v1/caregivers", "/api/v1/caregivers", map[string]any{"name": "Carla"}},
		{"GET", "/api/v1/caregivers/{id}", "/api/v1/caregivers/" + e.cg2, nil},
		{"PUT", "/api/v1/caregivers/{id}", "/api/v1/caregivers/" + e.cg2, map[string]any{"name": "Bruno N."}},
		{"DELETE", "/api/v1/caregivers/{id}", "/api/v1/caregivers/" + e.cg2, nil},
		{"GET", "/api/v1/caregivers/{id}/photo", "/api/v1/caregivers/" + e.cg2 + "/photo", nil},
		{"PUT", "/api/v1/caregivers/{id}/photo", "/api/v1/caregivers/" + e.cg2 + "/photo", map[string]any{"photo": "data:image/png;base64,iVBORw0KGgo="}},
		{"DELETE", "/api/v1/caregivers/{id}/photo", "/api/v1/caregivers/" + e.cg2 + "/photo", nil},
		{"GET", "/api/v1/terminals", "/api/v1/terminals", nil},
		{"POST", "/api/v1/terminals", "/api/v1/terminals", map[string]any{"label": "T-9", "model": "X", "state": "recovered"}},
		{"GET", "/api/v1/terminals/{id}", "/api/v1/terminals/" + termID, nil},
		{"PUT", "/api/v1/terminals/{id}", "/api/v1/terminals/" + termID, map[string]any{"label": "T-1", "model": "Y", "state": "ready"}},
		{"DELETE", "/api/v1/terminals/{id}", "/api/v1/terminals/" + termID, nil},
		{"GET", "/api/v1/offerings", "/api/v1/offerings", nil},
		{"POST", "/api/v1/offerings", "/api/v1/offerings", offering("Nuovo servizio")},
		{"GET", "/api/v1/offerings/{id}", "/api/v1/offerings/" + offID, nil},
		{"PUT", "/api/v1/offerings/{id}", "/api/v1/offerings/" + offID, offering("Servizio cambiato")},
		{"DELETE", "/api/v1/offerings/{id}", "/api/v1/offerings/" + offID, nil},
		{"GET", "/api/v1/audit", "/api/v1/audit", nil},
		{"GET", "/api/v1/audit/verify", "/api/v1/audit/verify", nil},
		{"GET", "/healthz", "/healthz", nil},
		{"GET", "/readyz", "/readyz", nil},
		{"GET", "/metrics", "/metrics", nil},
	}
}

// public are the routes that answer without a session.
var public = map[string]bool{
	"POST /api/v1/login": true, "POST /api/v1/logout": true, "GET /api/v1/node": true,
	"GET /api/v1/taxonomy": true, "GET /api/v1/municipalities": true,
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true,
}

// routeSet walks the router: "METHOD template" for every route.
func routeSet(t *testing.T, r *mux.Router) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := rt.GetMethods()
		if err != nil {
			return nil // a path prefix (subrouter), not an endpoint
		}
		for _, m := range ms {
			out[m+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isAPIRoute(key string) bool {
	_, tpl, _ := strings.Cut(key, " ")
	return strings.HasPrefix(tpl, "/api/") || tpl == "/healthz" || tpl == "/readyz" || tpl == "/metrics"
}

func (e *env) fixtures() (benID, termID, offID string) {
	e.t.Helper()
	benID = e.createBeneficiary("Ada Lovelace", e.cg1)
	var term, off struct{ ID string }
	e.must(http.StatusCreated, "POST", "/api/v1/terminals", "admin", map[string]any{"label": "T-1", "model": "ThinkPad", "state": "recovered"}, &term)
	e.must(http.StatusCreated, "POST", "/api/v1/offerings", "admin", offering("Servizio"), &off)
	return benID, term.ID, off.ID
}

func TestEveryPrivateEndpointNeedsASession(t *testing.T) {
	e := newEnv(t)
	eps := e.endpoints(e.fixtures())

	// The table must cover every API route, so a new route cannot skip this test.
	covered := map[string]bool{}
	for _, ep := range eps {
		covered[ep.method+" "+ep.template] = true
	}
	for r := range routeSet(t, e.api.Router) {
		if isAPIRoute(r) && !covered[r] {
			t.Errorf("route %s is not in the access table", r)
		}
	}

	for _, ep := range eps {
		t.Run(ep.method+" "+ep.template, func(t *testing.T) {
			before := e.snapshot()
			for _, auth := range []string{"", "Bearer not-a-token", "Basic YWRtaW46eA=="} {
				hdr := []string{}
				if auth != "" {
					hdr = []string{"Authorization", auth}
				}
				code, body, _ := e.do(ep.method, ep.path, "", ep.body, hdr...)
				key := ep.method + " " + ep.template
				if public[key] {
					if code == http.StatusUnauthorized && key != "POST /api/v1/login" {
						t.Fatalf("public route answered 401")
					}
					continue
				}
				if code != http.StatusUnauthorized {
					t.Fatalf("auth %q: status %d, want 401: %s", auth, code, body)
				}
				if eb := errBody(t, body); eb.Code != "unauthorized" {
					t.Fatalf("code %q", eb.Code)
				}
			}
			if after := e.snapshot(); after != before {
				t.Fatal("an unauthenticated request changed the store")
			}
		})
	}
}

func TestWrongRoleIsForbiddenAndAudited(t *testing.T) {
	e := newEnv(t)
	benID, termID, offID := e.fixtures()
	cases := []struct {
		user, method, path string
		body               any
		kind               string
	}{
		{"anna", "GET", "/api/v1/accounts", nil, "account"},
		{"anna", "POST", "/api/v1/accounts", map[string]any{"username": "x1x", "role": "admin", "password": pw}, "account"},
		{"oper", "PUT", "/api/v1/accounts/anna", map[string]any{"role": "admin"}, "account"},
		{"anna", "GET", "/api/v1/audit", nil, "audit"},
		{"refurb", "GET", "/api/v1/audit/verify", nil, "audit"},
		{"oper", "GET", "/api/v1/beneficiaries", nil, "beneficiary"},
		{"refurb", "GET", "/api/v1/beneficiaries/" + benID, nil, "beneficiary"},
		{"anna", "POST", "/api/v1/beneficiaries", beneficiary("Intrusa"), "beneficiary"},
		{"anna", "PUT", "/api/v1/beneficiaries/" + benID, beneficiary("Cambiata", e.cg1), "beneficiary"},
		{"anna", "DELETE", "/api/v1/beneficiaries/" + benID, nil, "beneficiary"},
		{"officer", "GET", "/api/v1/caregivers", nil, "caregiver"},
		{"anna", "GET", "/api/v1/caregivers/" + e.cg2, nil, "caregiver"},
		{"oper", "POST", "/api/v1/caregivers", map[string]any{"name": "X"}, "caregiver"},
		{"anna", "GET", "/api/v1/terminals", nil, "terminal"},
		{"oper", "PUT", "/api/v1/terminals/" + termID, map[string]any{"label": "T", "model": "M", "state": "ready"}, "terminal"},
		{"anna", "GET", "/api/v1/offerings", nil, "offering"},
		{"oper", "POST", "/api/v1/offerings", offering("Da operatore"), "offering"},
		{"oper", "PUT", "/api/v1/offerings/" + offID, offering("Da operatore"), "offering"},
		{"officer", "DELETE", "/api/v1/offerings/" + offID, nil, "offering"},
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.method+" "+c.path, func(t *testing.T) {
			before := e.snapshot()
			n0, _ := e.audit.Head()
			code, body, _ := e.do(c.method, c.path, c.user, c.body)
			if code != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", code, body)
			}
			if eb := errBody(t, body); eb.Code != "forbidden" {
				t.Fatalf("code %q", eb.Code)
			}
			if e.snapshot() != before {
				t.Fatal("a forbidden request changed the store")
			}
			e.waitEvent("denied", audit.Filter{Actor: c.user}, func(ev audit.Event) bool {
				return ev.Seq > n0 && ev.Action == audit.Denied && ev.Kind == c.kind && ev.Remote == "127.0.0.1" && ev.Role != ""
			})
		})
	}
}

func TestCaregiverSeesOnlyTheirBeneficiaries(t *testing.T) {
	e := newEnv(t)
	mine := e.createBeneficiary("Ada Lovelace", e.cg1)
	shared := e.createBeneficiary("Grace Hopper", e.cg1, e.cg2)
	other := e.createBeneficiary("Rita Levi", e.cg2)
	e.createBeneficiary("Nessuno Assegnato")

	var page struct {
		Total int
		Items []struct{ ID, Name string }
	}
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries", "anna", nil, &page)
	got := map[string]bool{}
	for _, it := range page.Items {
		got[it.ID] = true
	}
	if page.Total != 2 || len(got) != 2 || !got[mine] || !got[shared] {
		t.Fatalf("anna sees %+v, want exactly %s and %s", page, mine, shared)
	}
	// Search cannot reach past the filter either.
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries?q=rita", "anna", nil, &page)
	if page.Total != 0 {
		t.Fatalf("search found another caregiver's beneficiary: %+v", page)
	}
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+mine, "anna", nil, nil)
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+shared, "bruno", nil, nil)

	code, body, _ := e.do("GET", "/api/v1/beneficiaries/"+other, "anna", nil)
	if code != http.StatusForbidden || strings.Contains(string(body), "Rita") {
		t.Fatalf("reading another's beneficiary: %d %s", code, body)
	}
	e.waitEvent("denied read", audit.Filter{Object: other}, func(ev audit.Event) bool {
		return ev.Action == audit.Denied && ev.Actor == "anna" && ev.Kind == "beneficiary"
	})
	// Their own caregiver record only.
	e.must(http.StatusOK, "GET", "/api/v1/caregivers/"+e.cg1, "anna", nil, nil)
	var cgs struct{ Total int }
	e.must(http.StatusOK, "GET", "/api/v1/caregivers", "anna", nil, &cgs)
	if cgs.Total != 1 {
		t.Fatalf("anna lists %d caregivers, want 1", cgs.Total)
	}
}

func TestAuditCoversEveryPrivateReadAndChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.createBeneficiary("Ada Lovelace", e.cg1)
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+id, "anna", nil, nil)
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries", "admin", nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/beneficiaries/"+id, "admin", beneficiary("Ada King", e.cg1), nil)
	e.must(http.StatusOK, "DELETE", "/api/v1/beneficiaries/"+id, "admin", nil, nil)
	var term struct{ ID string }
	e.must(http.StatusCreated, "POST", "/api/v1/terminals", "refurb", map[string]any{"label": "T-1", "model": "M", "state": "recovered"}, &term)
	e.must(http.StatusOK, "GET", "/api/v1/terminals/"+term.ID, "refurb", nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/terminals/"+term.ID, "refurb", map[string]any{"label": "T-1", "model": "M", "state": "recovered"}, nil)
	e.must(http.StatusOK, "GET", "/api/v1/caregivers/"+e.cg2, "admin", nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/caregivers/"+e.cg2, "admin", map[string]any{"name": "Bruno Neri", "username": "bruno"}, nil)

	want := []struct {
		actor  string
		action audit.Action
		kind   string
		object string
	}{
		{"admin", audit.Create, "beneficiary", id},
		{"anna", audit.Read, "beneficiary", id},
		{"admin", audit.List, "beneficiary", ""},
		{"admin", audit.Update, "beneficiary", id},
		{"admin", audit.Archive, "beneficiary", id},
		{"refurb", audit.Create, "terminal", term.ID},
		{"refurb", audit.Read, "terminal", term.ID},
		{"refurb", audit.Update, "terminal", term.ID},
		{"admin", audit.Read, "caregiver", e.cg2},
		{"admin", audit.Update, "caregiver", e.cg2},
	}
	for _, w := range want {
		ev := e.waitEvent(string(w.action)+" "+w.kind, audit.Filter{Actor: w.actor, Kind: w.kind, Limit: 500}, func(ev audit.Event) bool {
			return ev.Action == w.action && ev.Object == w.object
		})
		if ev.Time.IsZero() || ev.Remote != "127.0.0.1" || ev.Role == "" {
			t.Errorf("event lacks when/where/role: %+v", ev)
		}
	}
	// The list event names the ids it showed, never names.
	ev := e.waitEvent("list", audit.Filter{Actor: "admin", Kind: "beneficiary"}, func(ev audit.Event) bool { return ev.Action == audit.List })
	if !strings.Contains(ev.Detail, id) || strings.Contains(ev.Detail, "Ada") {
		t.Errorf("list event detail %q", ev.Detail)
	}

	// The chain verifies through the API, and breaks when an event is edited.
	var v struct {
		OK      bool
		Checked int
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit/verify", "admin", nil, &v)
	if !v.OK || v.Checked < len(want) {
		t.Fatalf("verify: %+v", v)
	}
	var list struct {
		Events []audit.Event
		Count  int
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit?kind=beneficiary&limit=5", "admin", nil, &list)
	if len(list.Events) == 0 || len(list.Events) > 5 {
		t.Fatalf("audit list: %+v", list)
	}
	d := e.st.Namespace("/audit")
	k := "/e/00000000000000000003"
	raw, err := d.Get(ctx, dsKey(k))
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(raw), `"actor":"`, `"actor":"x`, 1)
	if err := d.Put(ctx, dsKey(k), []byte(tampered)); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit/verify", "admin", nil, &v)
	if v.OK {
		t.Fatal("tampered chain verified")
	}
}
