package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) {
	// bleve (the catalogue search index) starts analysis workers when it is
	// loaded and never stops them.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

// cheap keeps argon2id fast in tests; production cost is DefaultParams.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

const pw = "password-di-prova"

// env is an API server on loopback with its services, a set of accounts
// (one per role, two caregivers) and two caregiver records.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	api   *api.Server
	st    *store.Store
	care  *care.Service
	own   *catalogue.Own
	auth  *auth.Service
	audit *audit.Log

	tok      map[string]string // username -> bearer token
	cg1, cg2 string            // caregiver record ids of "anna" and "bruno"
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: store.NewMemory(), tok: map[string]string{}}
	var err error
	if e.audit, err = audit.Open(ctx, e.st.Namespace("/audit"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if e.auth, err = auth.Open(ctx, e.st.Namespace("/auth"), auth.Config{Params: cheap}); err != nil {
		t.Fatal(err)
	}
	if e.care, err = care.Open(ctx, e.st.Namespace("/care"), e.audit, nil); err != nil {
		t.Fatal(err)
	}
	if e.own, err = catalogue.OpenOwn(ctx, e.st.Namespace("/own"), e.audit, nil); err != nil {
		t.Fatal(err)
	}
	e.api = api.New(api.Deps{
		Auth: e.auth, Audit: e.audit, Domains: []httpx.Routes{e.care, e.own},
		Info: func() api.NodeInfo {
			return api.NodeInfo{PeerID: "12D3KooWtest", CoopName: "Coop di prova", Version: "test"}
		},
		Ready:   e.st.Ping,
		Metrics: prometheus.NewRegistry(),
	})
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		e.audit.Close()
	})

	sys := auth.Actor{Username: "setup", Role: auth.Admin}
	c1, err := e.care.CreateCaregiver(ctx, sys, care.Caregiver{Name: "Anna Verdi", Username: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.care.CreateCaregiver(ctx, sys, care.Caregiver{Name: "Bruno Neri", Username: "bruno"})
	if err != nil {
		t.Fatal(err)
	}
	e.cg1, e.cg2 = c1.ID, c2.ID
	for _, a := range []auth.Account{
		{Username: "admin", Role: auth.Admin},
		{Username: "anna", Role: auth.Caregiver, CaregiverID: c1.ID},
		{Username: "bruno", Role: auth.Caregiver, CaregiverID: c2.ID},
		{Username: "oper", Role: auth.Operator},
		{Username: "refurb", Role: auth.Refurbisher},
		{Username: "officer", Role: auth.Officer},
	} {
		if _, err := e.auth.Create(ctx, a, pw); err != nil {
			t.Fatal(err)
		}
		tok, _, err := e.auth.Login(ctx, a.Username, pw, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		e.tok[a.Username] = tok
	}
	return e
}

// do sends a request as user ("" = anonymous). body is sent as is when it
// is a string or []byte, else as JSON.
func (e *env) do(method, path, user string, body any, hdr ...string) (int, []byte, http.Header) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tok[user])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}

// must is do that fails the test unless the status is want, and decodes
// the JSON answer into v (when v is not nil).
func (e *env) must(want int, method, path, user string, body, v any) {
	e.t.Helper()
	code, out, _ := e.do(method, path, user, body)
	if code != want {
		e.t.Fatalf("%s %s as %q: status %d, want %d; body %s", method, path, user, code, want, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, out, err)
		}
	}
}

// errBody decodes an API error.
func errBody(t testing.TB, b []byte) httpx.ErrorBody {
	t.Helper()
	var eb httpx.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil || eb.Code == "" || eb.Error == "" {
		t.Fatalf("not an API error body: %s (%v)", b, err)
	}
	return eb
}

// snapshot is every stored record and account, to compare before and after
// a refused request.
func (e *env) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	admin := auth.Actor{Username: "snapshot", Role: auth.Admin}
	all := care.Query{Archived: true, Limit: 500}
	b, _ := e.care.ListBeneficiaries(ctx, admin, all)
	c, _ := e.care.ListCaregivers(ctx, admin, all)
	tm, _ := e.care.ListTerminals(ctx, admin, all)
	raw, err := json.Marshal([]any{b, c, tm, e.own.All(), e.auth.List(), e.care.Counts()})
	if err != nil {
		e.t.Fatal(err)
	}
	return string(raw)
}

// waitEvent polls the audit log until an event matching ok appears: reads
// are noted without waiting for the disk.
func (e *env) waitEvent(what string, f audit.Filter, ok func(audit.Event) bool) audit.Event {
	e.t.Helper()
	var evs []audit.Event
	var found audit.Event
	if !poll.Wait(5*time.Second, 5*time.Millisecond, func() bool {
		var err error
		evs, err = e.audit.Query(context.Background(), f)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range evs {
			if ok(ev) {
				found = ev
				return true
			}
		}
		return false
	}) {
		e.t.Fatalf("no audit event for %s; have %+v", what, evs)
	}
	return found
}

// beneficiary is a valid beneficiary body assigned to caregivers.
func beneficiary(name string, caregivers ...string) map[string]any {
	if caregivers == nil {
		caregivers = []string{}
	}
	return map[string]any{
		"name": name, "address": "Via Roma 1", "municipality": "015146", "birth_year": 1940,
		"fragility": []string{"alone"}, "caregivers": caregivers,
		"contacts": []map[string]any{{"kind": "family", "name": "Figlia", "phone": "+39 333 1234567"}},
		"consent":  map[string]any{"given": true, "date": "2025-05-01"},
	}
}

// offering is a valid offering body.
func offering(name string) map[string]any {
	return map[string]any{
		"name": name, "description": "Aiuto a casa.", "category": "anziani.assistenza-domiciliare",
		"cost": map[string]any{"type": "free"}, "delivery": "individual", "areas": []string{"080063"},
		"languages": []string{"it"}, "contact": map[string]any{"phone": "+39 0965 123456"}, "status": "active",
	}
}

func (e *env) createBeneficiary(name string, caregivers ...string) string {
	e.t.Helper()
	var out struct{ ID string }
	e.must(http.StatusCreated, "POST", "/api/v1/beneficiaries", "admin", beneficiary(name, caregivers...), &out)
	if out.ID == "" {
		e.t.Fatal("created beneficiary has no id")
	}
	return out.ID
}
