package citizens_test

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
)

// FuzzPublicBodies sends arbitrary bodies to the routes anyone on the
// network may call (sign-up, verification) and to an operator's
// registration: every answer is a success or a 4xx with a code, never a
// 5xx or a panic.
func FuzzPublicBodies(f *testing.F) {
	for _, s := range []string{
		`{"username":"giulia","password":"tramonto-sul-lago-blu","display_name":"Giulia","email":"g@example.org"}`,
		`{"username":"x","password":"","display_name":"","email":""}`,
		`{"token":"abc"}`, `{"token":""}`, `{"token":` + strings.Repeat(`"a`, 50) + `"}`,
		`{"username":"rosa","display_name":"Rosa","consent":{"given":true,"method":"signed_form"}}`,
		`{"consent":{"given":"yes"}}`, `{"email":"a@b"}`, `[]`, `null`, ``, "\xff", `{"lang":"xx"}`,
		`{"username":"ab\u202e","password":"tramonto-sul-lago-blu","display_name":"A","email":"a@example.org"}`,
	} {
		f.Add(s)
	}
	r := newRig(f, rigOpts{})
	h := r.srv.Config.Handler
	r.account("operatore", auth.Operator)
	tok, _, err := r.auth.Login(f.Context(), "operatore", pwOperator, "127.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		hs := fnv.New32a()
		hs.Write([]byte(body))
		for _, path := range []string{"/api/v1/citizens/signup", "/api/v1/citizens/verify", "/api/v1/citizens"} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			// Spread the addresses so the sign-up throttle does not
			// answer every input alike.
			req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", hs.Sum32()>>16&0xff, hs.Sum32()>>8&0xff, hs.Sum32()&0xff)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 || (w.Code >= 400 && !strings.Contains(w.Body.String(), `"code"`)) {
				t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body.String())
			}
		}
	})
}
