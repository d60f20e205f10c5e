package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputChangesNothing sends broken requests to every writing route
// and checks each gets a clear error and leaves the store as it was.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	benID, termID, offID := e.fixtures()
	huge := `{"name":"` + strings.Repeat("a", 1<<20+10) + `"}`
	badMun := beneficiary("Ada")
	badMun["municipality"] = "999999"
	badOff := offering("X")
	badOff["areas"] = []string{"12345"}
	badOff["category"] = "non.esiste"
	noContact := beneficiary("Ada")
	noContact["contacts"] = []map[string]any{{"kind": "family", "name": "Figlia"}}
	cases := []struct {
		name, method, path string
		body               any
		ctype              string
		status             int
		code               string
		field              string
	}{
		{"malformed", "POST", "/api/v1/beneficiaries", `{"name": "Ada",`, "", 400, "bad_json", ""},
		{"not an object", "POST", "/api/v1/beneficiaries", `[1,2]`, "", 400, "bad_json", ""},
		{"empty body", "POST", "/api/v1/beneficiaries", ``, "", 400, "bad_json", ""},
		{"trailing data", "POST", "/api/v1/caregivers", `{"name":"A"} {"name":"B"}`, "", 400, "bad_json", ""},
		{"unknown field", "POST", "/api/v1/beneficiaries", `{"nome":"Ada"}`, "", 400, "unknown_field", ""},
		{"unknown nested field", "POST", "/api/v1/offerings", `{"cost":{"tipo":"free"}}`, "", 400, "unknown_field", ""},
		{"wrong type", "POST", "/api/v1/beneficiaries", `{"name":5}`, "", 400, "bad_json", ""},
		{"wrong type nested", "POST", "/api/v1/terminals", `{"label":"T","model":"M","state":"ready","ram_mb":"lots"}`, "", 400, "bad_json", ""},
		{"missing required", "POST", "/api/v1/beneficiaries", `{}`, "", 400, "invalid", "name"},
		{"missing contact means", "POST", "/api/v1/beneficiaries", noContact, "", 400, "invalid", "contacts.0.phone"},
		{"bad municipality", "POST", "/api/v1/beneficiaries", badMun, "", 400, "invalid", "municipality"},
		{"bad municipality on update", "PUT", "/api/v1/beneficiaries/" + benID, badMun, "", 400, "invalid", "municipality"},
		{"bad offering", "POST", "/api/v1/offerings", badOff, "", 400, "invalid", "category"},
		{"bad offering on update", "PUT", "/api/v1/offerings/" + offID, badOff, "", 400, "invalid", "areas[0]"},
		{"bad terminal state", "POST", "/api/v1/terminals", `{"label":"T","model":"M","state":"lost"}`, "", 400, "invalid", "state"},
		{"terminal state by an edit", "PUT", "/api/v1/terminals/" + termID, `{"label":"T","model":"M","state":"retired"}`, "", 409, "terminal_state_by_transition", ""},
		{"delivered without beneficiary", "POST", "/api/v1/terminals", `{"label":"T","model":"M","state":"delivered"}`, "", 400, "invalid", "beneficiary"},
		{"unknown caregiver", "POST", "/api/v1/beneficiaries", beneficiary("Ada", "nope"), "", 400, "invalid", "caregivers"},
		{"oversized", "POST", "/api/v1/beneficiaries", huge, "", 413, "too_large", ""},
		{"oversized update", "PUT", "/api/v1/caregivers/" + e.cg1, huge, "", 413, "too_large", ""},
		{"not json", "POST", "/api/v1/caregivers", `name=A`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"weak password", "POST", "/api/v1/accounts", `{"username":"nuovo","role":"operator","password":"corta"}`, "", 400, "invalid", "password"},
		{"bad role", "POST", "/api/v1/accounts", `{"username":"nuovo","role":"king","password":"password-lunga"}`, "", 400, "invalid", "role"},
		{"bad username", "POST", "/api/v1/accounts", `{"username":"A B","role":"operator","password":"password-lunga"}`, "", 400, "invalid", "username"},
		{"taken username", "POST", "/api/v1/accounts", `{"username":"anna","role":"operator","password":"password-lunga"}`, "", 400, "invalid", "username"},
		{"demote self", "PUT", "/api/v1/accounts/admin", `{"role":"operator"}`, "", 400, "invalid", "role"},
		{"update missing record", "PUT", "/api/v1/beneficiaries/nope", beneficiary("Ada"), "", 404, "not_found", ""},
		{"archive missing record", "DELETE", "/api/v1/offerings/nope", nil, "", 404, "not_found", ""},
		{"missing account", "PUT", "/api/v1/accounts/nessuno", `{"role":"operator"}`, "", 404, "not_found", ""},
		{"bad limit", "GET", "/api/v1/beneficiaries?limit=abc", nil, "", 400, "bad_query", ""},
		{"limit too big", "GET", "/api/v1/offerings?limit=501", nil, "", 400, "bad_query", ""},
		{"negative offset", "GET", "/api/v1/terminals?offset=-1", nil, "", 400, "bad_query", ""},
		{"bad archived", "GET", "/api/v1/caregivers?archived=maybe", nil, "", 400, "bad_query", ""},
		{"long search", "GET", "/api/v1/beneficiaries?q=" + strings.Repeat("x", 201), nil, "", 400, "bad_query", ""},
		{"bad audit before", "GET", "/api/v1/audit?before=x", nil, "", 400, "bad_query", ""},
		{"bad audit limit", "GET", "/api/v1/audit?limit=0", nil, "", 400, "bad_query", ""},
		{"long municipality query", "GET", "/api/v1/municipalities?q=" + strings.Repeat("m", 101), nil, "", 400, "bad_query", ""},
		{"unknown route", "GET", "/api/v1/nope", nil, "", 404, "not_found", ""},
		{"wrong method", "PATCH", "/api/v1/beneficiaries/" + benID, `{}`, "", 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			hdr := []string{}
			if c.ctype != "" {
				hdr = []string{"Content-Type", c.ctype}
			}
			code, body, _ := e.do(c.method, c.path, "admin", c.body, hdr...)
			if code != c.status {
				t.Fatalf("status %d, want %d: %.300s", code, c.status, body)
			}
			eb := errBody(t, body)
			if eb.Code != c.code {
				t.Fatalf("code %q, want %q (%s)", eb.Code, c.code, eb.Error)
			}
			if c.field != "" && eb.Fields[c.field] == "" {
				t.Fatalf("no error for field %q: %+v", c.field, eb.Fields)
			}
			if after := e.snapshot(); after != before {
				t.Fatal("a refused request changed the store")
			}
		})
	}
}

func TestOfferingLifecycle(t *testing.T) {
	e := newEnv(t)
	var created map[string]any
	e.must(http.StatusCreated, "POST", "/api/v1/offerings", "admin", offering("Assistenza leggera"), &created)
	id, _ := created["id"].(string)
	if len(created) != 1 || len(id) != 36 {
		t.Fatalf("POST /api/v1/offerings answered %v, want only {\"id\"}", created)
	}
	var got struct {
		ID, Name string
		Archived bool
	}
	e.must(http.StatusOK, "GET", "/api/v1/offerings/"+id, "oper", nil, &got)
	if got.ID != id || got.Name != "Assistenza leggera" {
		t.Fatalf("read back %+v", got)
	}
	// The id in the body is ignored: the path names the offering.
	upd := offering("Assistenza completa")
	upd["id"] = "00000000-0000-4000-8000-000000000000"
	e.must(http.StatusOK, "PUT", "/api/v1/offerings/"+id, "admin", upd, &got)
	if got.ID != id || got.Name != "Assistenza completa" {
		t.Fatalf("after update %+v", got)
	}
	var page struct {
		Total int
		Items []struct{ ID string }
	}
	e.must(http.StatusOK, "GET", "/api/v1/offerings?q=completa", "admin", nil, &page)
	if page.Total != 1 || page.Items[0].ID != id {
		t.Fatalf("search %+v", page)
	}
	e.must(http.StatusOK, "DELETE", "/api/v1/offerings/"+id, "admin", nil, &got)
	if !got.Archived {
		t.Fatal("archive did not archive")
	}
	e.must(http.StatusOK, "GET", "/api/v1/offerings", "admin", nil, &page)
	if page.Total != 0 {
		t.Fatalf("archived offering still listed: %+v", page)
	}
	e.must(http.StatusOK, "GET", "/api/v1/offerings?archived=true", "admin", nil, &page)
	if page.Total != 1 {
		t.Fatalf("archived=true lists %d", page.Total)
	}
}

func TestRegistryLifecycleAndPaging(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 7 {
		ids = append(ids, e.createBeneficiary("Persona "+string(rune('A'+i)), e.cg1))
	}
	seen := map[string]bool{}
	for off := 0; off < 7; off += 3 {
		var page struct {
			Total int
			Items []struct{ ID string }
		}
		e.must(http.StatusOK, "GET", "/api/v1/beneficiaries?limit=3&offset="+string(rune('0'+off)), "admin", nil, &page)
		if page.Total != 7 || len(page.Items) != min(3, 7-off) {
			t.Fatalf("offset %d: %+v", off, page)
		}
		for _, it := range page.Items {
			if seen[it.ID] {
				t.Fatalf("id %s on two pages", it.ID)
			}
			seen[it.ID] = true
		}
	}
	var b map[string]any
	e.must(http.StatusOK, "PUT", "/api/v1/beneficiaries/"+ids[0], "admin", beneficiary("Nome Nuovo", e.cg2), &b)
	if b["name"] != "Nome Nuovo" || b["id"] != ids[0] {
		t.Fatalf("update answered %v", b)
	}
	// anna lost access with the reassignment; bruno gained it.
	if code, _, _ := e.do("GET", "/api/v1/beneficiaries/"+ids[0], "anna", nil); code != http.StatusForbidden {
		t.Fatalf("anna after reassignment: %d", code)
	}
	e.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+ids[0], "bruno", nil, nil)

	// A terminal's history is the server's: it grows on state changes only.
	var term struct {
		ID      string
		History []struct{ State, By string }
		Workers []string
	}
	e.must(http.StatusCreated, "POST", "/api/v1/terminals", "refurb", map[string]any{"label": "T-1", "model": "M", "state": "recovered"}, &term)
	// A state changes only through the workshop's transitions.
	e.must(http.StatusConflict, "PUT", "/api/v1/terminals/"+term.ID, "refurb", map[string]any{"label": "T-1", "model": "M", "state": "ready"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/terminals/"+term.ID, "refurb", map[string]any{"label": "T-1", "model": "M", "state": "recovered",
		"history": []map[string]any{{"state": "forged", "by": "x"}}, "workers": []string{"forged"}}, &term)
	if len(term.History) != 1 || term.History[0].State != "recovered" || term.History[0].By != "refurb" {
		t.Fatalf("history %+v", term.History)
	}
	if len(term.Workers) != 1 || term.Workers[0] != "refurb" {
		t.Fatalf("workers %v", term.Workers)
	}
	var arch map[string]any
	e.must(http.StatusOK, "DELETE", "/api/v1/terminals/"+term.ID, "refurb", nil, &arch)
	if arch["archived"] != true {
		t.Fatalf("archive answered %v", arch)
	}
	raw, _ := json.Marshal(arch)
	if !strings.Contains(string(raw), `"label":"T-1"`) {
		t.Fatalf("archive lost the record's fields: %s", raw)
	}
}
