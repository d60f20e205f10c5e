package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node/auth"
)

// benchEnv is an env loaded with generated records (in memory: this
// measures the handlers, not the disk).
func benchEnv(b *testing.B, nBen, nOff int) (*env, []string) {
	e := newEnv(b)
	ctx := context.Background()
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	var ids []string
	for _, bn := range demo.Beneficiaries(1, nBen) {
		out, err := e.care.CreateBeneficiary(ctx, admin, bn)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, out.ID)
	}
	for _, o := range demo.Offerings(2, nOff) {
		if _, err := e.own.Import(ctx, admin, o); err != nil {
			b.Fatal(err)
		}
	}
	return e, ids
}

// BenchmarkHandlers times list and read handlers in process (no network)
// against a baseline handler that writes a fixed body of the same size.
func BenchmarkHandlers(b *testing.B) {
	e, ids := benchEnv(b, 5000, 20000)
	h := e.api.Handler()
	tok := "Bearer " + e.tok["admin"]
	for _, c := range []struct{ name, path string }{
		{"beneficiaries-list-50", "/api/v1/beneficiaries?limit=50&offset=%d"},
		{"offerings-list-50", "/api/v1/offerings?limit=50&offset=%d"},
		{"beneficiary-read", "/api/v1/beneficiaries/%s"},
	} {
		path := func(i int) string {
			if c.name == "beneficiary-read" {
				return fmt.Sprintf(c.path, ids[i%len(ids)])
			}
			return fmt.Sprintf(c.path, (i*50)%4000)
		}
		probe := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path(0), nil)
		req.Header.Set("Authorization", tok)
		h.ServeHTTP(probe, req)
		if probe.Code != http.StatusOK {
			b.Fatalf("%s: %d", c.name, probe.Code)
		}
		fixed := probe.Body.Bytes()
		b.Run(c.name+"/node", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", path(i), nil)
				req.Header.Set("Authorization", tok)
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(len(fixed)), "bytes/answer")
		})
		b.Run(c.name+"/baseline-fixed-bytes", func(b *testing.B) {
			base := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(fixed)
			})
			for i := 0; b.Loop(); i++ {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", path(i), nil)
				req.Header.Set("Authorization", tok)
				base.ServeHTTP(w, req)
			}
		})
	}
}
