package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
)

// with returns a valid beneficiary body with one field changed.
func with(path string, v any) map[string]any {
	b := beneficiary("Ada")
	if k, sub, ok := strings.Cut(path, "."); ok {
		m := b[k].(map[string]any)
		m[sub] = v
		return b
	}
	b[path] = v
	return b
}

// TestStrictBodiesAndText checks each class of text the API refuses:
// bodies that are not one JSON text (invalid UTF-8, a member twice, a lone
// surrogate), and free text with control characters, direction overrides,
// line breaks in one-line fields or too many characters; and dates out of
// range. None of them changes the store.
func TestStrictBodiesAndText(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path, body string
		code, field, fieldCode   string
	}{
		{"invalid UTF-8", "POST", "/api/v1/caregivers", "{\"name\":\"Anna \xff\xfe\"}", "bad_json", "", ""},
		{"invalid UTF-8 in a key", "POST", "/api/v1/caregivers", "{\"name\":\"Anna\",\"notes\xff\":\"x\"}", "bad_json", "", ""},
		{"member twice", "POST", "/api/v1/caregivers", `{"name":"Anna","name":"Bruno"}`, "bad_json", "", ""},
		{"member twice nested", "POST", "/api/v1/beneficiaries", `{"name":"Ada","consent":{"given":true,"given":false}}`, "bad_json", "", ""},
		{"lone surrogate", "POST", "/api/v1/caregivers", `{"name":"Anna \ud800"}`, "bad_json", "", ""},
		{"control character", "POST", "/api/v1/beneficiaries", mustJSON(with("name", "Ada\u0007")), "invalid", "name", "bad_characters"},
		{"direction override", "POST", "/api/v1/beneficiaries", mustJSON(with("name", "Ada \u202egnp.exe")), "invalid", "name", "bad_characters"},
		{"isolate override in notes", "POST", "/api/v1/beneficiaries", mustJSON(with("notes", "ok \u2067x")), "invalid", "notes", "bad_characters"},
		{"line break in a one-line field", "POST", "/api/v1/beneficiaries", mustJSON(with("address", "Via Roma 1\nScala B")), "invalid", "address", "bad_characters"},
		{"too long", "POST", "/api/v1/beneficiaries", mustJSON(with("name", strings.Repeat("é", 201))), "invalid", "name", "too_long"},
		{"caregiver name override", "POST", "/api/v1/caregivers", `{"name":"Anna \u202d"}`, "invalid", "name", "bad_characters"},
		{"terminal model control", "POST", "/api/v1/terminals", `{"label":"T","model":"M\u001b[31m","state":"recovered"}`, "invalid", "model", "bad_characters"},
		{"display name override", "POST", "/api/v1/accounts", `{"username":"nuovo1","role":"operator","display_name":"Anna \u202e","password":"Quercia-Lampione-Sereno"}`, "invalid", "display_name", "bad_characters"},
		{"display name too long", "POST", "/api/v1/accounts", `{"username":"nuovo2","role":"operator","display_name":"` + strings.Repeat("a", 101) + `","password":"Quercia-Lampione-Sereno"}`, "invalid", "display_name", "too_long"},
		{"display name control on update", "PUT", "/api/v1/accounts/oper", `{"role":"operator","display_name":"Oper\u0000"}`, "invalid", "display_name", "bad_characters"},
		{"consent in year zero", "POST", "/api/v1/beneficiaries", mustJSON(with("consent.date", "0000-01-01")), "invalid", "consent.date", "out_of_range"},
		{"consent in the future", "POST", "/api/v1/beneficiaries", mustJSON(with("consent.date", "2999-01-01")), "invalid", "consent.date", "out_of_range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			code, body, _ := e.do(c.method, c.path, "admin", c.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %.300s", code, body)
			}
			eb := errBody(t, body)
			if eb.Code != c.code || c.field != "" && eb.Fields[c.field] != c.fieldCode {
				t.Fatalf("answer %+v, want code %q field %q: %q", eb, c.code, c.field, c.fieldCode)
			}
			if e.snapshot() != before {
				t.Fatal("a refused body changed the store")
			}
		})
	}
	// Line breaks as a browser sends them are fine where text is multi-line.
	ok := with("notes", "Preferisce il mattino.\r\nCitofono rotto.\tSuonare due volte.")
	e.must(http.StatusCreated, "POST", "/api/v1/beneficiaries", "admin", ok, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/beneficiaries", "admin", with("consent.date", "1970-01-01"), nil)
}

// TestCaregiverCannotProbeIDs: a caregiver asking for a beneficiary that
// is not theirs and for one that does not exist gets the same answer, 403,
// audited both times; an admin is told 404.
func TestCaregiverCannotProbeIDs(t *testing.T) {
	e := newEnv(t)
	other := e.createBeneficiary("Rita Levi", e.cg2)
	for _, c := range []struct{ method, id string }{
		{"GET", other}, {"GET", "nonexiste"}, {"PUT", other}, {"PUT", "nonexiste"}, {"DELETE", "nonexiste"},
	} {
		var body any
		if c.method == "PUT" {
			body = beneficiary("Rita", e.cg1)
		}
		code, raw, _ := e.do(c.method, "/api/v1/beneficiaries/"+c.id, "anna", body)
		if code != http.StatusForbidden || errBody(t, raw).Code != "forbidden" {
			t.Errorf("%s %s as caregiver: %d %s, want 403", c.method, c.id, code, raw)
		}
		e.waitEvent("denied "+c.id, audit.Filter{Actor: "anna", Object: c.id}, func(ev audit.Event) bool {
			return ev.Action == audit.Denied && ev.Kind == "beneficiary"
		})
	}
	for _, path := range []string{"/api/v1/beneficiaries/nonexiste", "/api/v1/caregivers/nonexiste", "/api/v1/terminals/nonexiste"} {
		if code, raw, _ := e.do("GET", path, "admin", nil); code != http.StatusNotFound {
			t.Errorf("GET %s as admin: %d %s, want 404", path, code, raw)
		}
	}
	if code, raw, _ := e.do("GET", "/api/v1/terminals/nonexiste", "refurb", nil); code != http.StatusNotFound {
		t.Errorf("missing terminal as refurbisher (who sees every terminal): %d %s, want 404", code, raw)
	}
}

// TestHSTSWhenCookiesAreSecure: a node whose cookies are Secure (served
// over TLS) tells browsers to use HTTPS only; one on plain HTTP does not.
func TestHSTSWhenCookiesAreSecure(t *testing.T) {
	e := newEnv(t)
	for _, secure := range []bool{false, true} {
		s := api.New(api.Deps{Auth: e.auth, Audit: e.audit, Secure: secure})
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		got := w.Header().Get("Strict-Transport-Security")
		if secure && !strings.HasPrefix(got, "max-age=") || !secure && got != "" {
			t.Errorf("secure %v: Strict-Transport-Security %q", secure, got)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
