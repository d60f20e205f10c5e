package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// FuzzDecode feeds arbitrary bodies to the strict decoder: it must never
// panic, and must answer either a value or a 4xx problem.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ada","address":"Via Roma 1","municipality":"015146"}`,
		`{"name":5}`, `{"nome":"x"}`, `[]`, `null`, ``, `{"a":1} {}`, `{"name":"\u0000"}`,
		`{"contacts":[{"kind":"family","name":"x","phone":"+39 1"}]}`,
		`{"cost":{"type":"paid","options":[{"amount_cents":1e400}]}}`,
		`{"consent":{"given":"yes"}}`, "\xff\xfe", `{"name":"` + strings.Repeat("é", 100) + `"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, v := range []any{new(care.Beneficiary), new(schema.Offering), new(auth.LoginRequest)} {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			w := httptest.NewRecorder()
			if err := httpx.DecodeJSON(w, r, v, httpx.MaxBody); err != nil {
				p := problem.As(err)
				if p.Status < 400 || p.Status >= 500 || p.Code == "" {
					t.Fatalf("decode(%q) = %d %q", body, p.Status, p.Code)
				}
			}
		}
	})
}
