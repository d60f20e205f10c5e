package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
)

func TestMain(m *testing.M) {
	// bleve (the catalogue search index) starts analysis workers when it is
	// loaded and never stops them.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// syncBuffer is a log sink that tolerates concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Argon == (auth.Params{}) {
		cfg.Argon = cheap
	}
	// The private side needs no peers; federated nodes have their own
	// tests (testnet). This also keeps every packet on loopback.
	cfg.NoFederation = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPListener = ln
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// startDemo starts a node and seeds the demo coop into it after the start,
// as `difronte serve --demo` does; generated demo passwords go to
// cfg.OnAdminCreated, like the admin's.
func startDemo(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	n := start(t, cfg)
	_, err := demo.Seed(context.Background(), n.Care(), n.Own(), n.Auth(), demo.Options{
		Password: cfg.AdminPassword,
		OnAccount: func(username, password string) {
			if password != "" && cfg.OnAdminCreated != nil {
				cfg.OnAdminCreated(username, password)
			}
		},
	})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	return n
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func login(t *testing.T, n *node.Node, user, pw string) *client {
	t.Helper()
	c := &client{t: t, base: n.URL()}
	var out struct{ Token string }
	c.call(http.StatusOK, "POST", "/api/v1/login", map[string]string{"username": user, "password": pw}, &out)
	c.token = out.Token
	return c
}

func (c *client) call(want int, method, path string, body, v any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			c.t.Fatal(err)
		}
	}
}

func TestStartCloseLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		n := start(t, node.Config{DataDir: dir, AdminPassword: "ponte-di-vetro-42"})
		c := login(t, n, "admin", "ponte-di-vetro-42")
		c.call(http.StatusOK, "GET", "/api/v1/beneficiaries", nil, nil)
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if err := n.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	}
	// goleak in TestMain checks that no goroutine of the node survives.
}

func TestFirstStartCreatesAdminOnceAndSeedsDemoOnce(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	told := map[string]string{}
	cfg := node.Config{DataDir: dir, OnAdminCreated: func(u, p string) {
		mu.Lock()
		told[u] = p
		mu.Unlock()
	}}
	n := startDemo(t, cfg)
	if told["admin"] == "" || len(told) != 7 {
		t.Fatalf("first start reported %v, want admin and six demo accounts", told)
	}
	counts := n.Care().Counts()
	if counts["beneficiaries"] != 8 || n.Own().Count() != 6 {
		t.Fatalf("demo counts %v, %d offerings", counts, n.Own().Count())
	}
	c := login(t, n, "giulia.ferrari", told["giulia.ferrari"])
	var page struct{ Total int }
	c.call(http.StatusOK, "GET", "/api/v1/beneficiaries", nil, &page)
	if page.Total == 0 || page.Total == 8 {
		t.Fatalf("demo caregiver sees %d beneficiaries", page.Total)
	}
	peer := n.PeerID()
	n.Close()
	http.DefaultClient.CloseIdleConnections()

	clear(told)
	n = startDemo(t, cfg)
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	if len(told) != 0 {
		t.Fatalf("second start reported accounts again: %v", told)
	}
	if n.PeerID() != peer {
		t.Fatal("peer id changed across restarts")
	}
	if got := n.Care().Counts(); got["beneficiaries"] != 8 || n.Own().Count() != 6 {
		t.Fatalf("second start changed the demo: %v", got)
	}
}

// TestNoPersonalDataInLogs runs a node that logs everything as JSON and
// drives every private field through create, read, list, update, archive
// and refused requests; no canary may reach the log.
func TestNoPersonalDataInLogs(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := startDemo(t, node.Config{Logger: logger, AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	admin := login(t, n, "admin", "ponte-di-vetro-42")

	canaries := []string{}
	cn := func(field string) string {
		s := "Canary" + strings.ReplaceAll(field, "_", "") + "Xq"
		canaries = append(canaries, s)
		return s
	}
	var cg struct{ ID string }
	admin.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{
		"name": cn("cgname"), "email": "canarycg@example.org", "availability": cn("avail"), "notes": cn("cgnotes"), "username": "canarycg",
	}, &cg)
	canaries = append(canaries, "canarycg@example.org", "+39 333 7771234", "+39 0965 5551234")
	ben := map[string]any{
		"name": cn("name"), "address": cn("address"), "municipality": "080063", "phone": "+39 0965 5551234",
		"fragility": []string{"alone"}, "notes": cn("notes"), "caregivers": []string{cg.ID},
		"contacts": []map[string]any{{"kind": "family", "name": cn("contact"), "relation": cn("relation"), "phone": "+39 333 7771234"}},
		"consent":  map[string]any{"given": true, "date": "2025-01-02", "collected_by": cn("collector"), "scope": cn("scope")},
	}
	var b struct{ ID string }
	admin.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", ben, &b)
	admin.call(http.StatusOK, "GET", "/api/v1/beneficiaries/"+b.ID, nil, nil)
	admin.call(http.StatusOK, "GET", "/api/v1/beneficiaries?q="+canaries[3], nil, nil)
	ben["notes"] = cn("notes2")
	admin.call(http.StatusOK, "PUT", "/api/v1/beneficiaries/"+b.ID, ben, nil)
	bad := map[string]any{}
	for k, v := range ben {
		bad[k] = v
	}
	bad["municipality"] = "000000"
	bad["name"] = cn("badname")
	admin.call(http.StatusBadRequest, "POST", "/api/v1/beneficiaries", bad, nil)
	admin.call(http.StatusBadRequest, "POST", "/api/v1/beneficiaries", map[string]any{"name": cn("typo"), "nome": cn("unknown")}, nil)
	admin.call(http.StatusCreated, "POST", "/api/v1/terminals", map[string]any{"label": cn("label"), "model": cn("model"), "state": "in_service", "beneficiary": b.ID, "notes": cn("tnotes")}, nil)
	admin.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "canarycg", "role": "caregiver", "caregiver_id": cg.ID, "display_name": cn("display"), "password": "CanaryPasswordXq"}, nil)
	canaries = append(canaries, "CanaryPasswordXq", "ponte-di-vetro-42")
	cgc := login(t, n, "canarycg", "CanaryPasswordXq")
	cgc.call(http.StatusOK, "GET", "/api/v1/beneficiaries/"+b.ID, nil, nil)
	var other struct{ Items []struct{ ID string } }
	admin.call(http.StatusOK, "GET", "/api/v1/beneficiaries?limit=1", nil, &other)
	cgc.call(http.StatusForbidden, "GET", "/api/v1/terminals", nil, nil)
	wrong := &client{t: t, base: n.URL()}
	wrong.call(http.StatusUnauthorized, "POST", "/api/v1/login", map[string]string{"username": "canarycg", "password": cn("wrongpw")}, nil)
	admin.call(http.StatusOK, "DELETE", "/api/v1/beneficiaries/"+b.ID, nil, nil)
	n.Close()

	out := logs.String()
	if !strings.Contains(out, `"component"`) {
		t.Fatalf("the node logged nothing useful; the test would prove nothing:\n%s", out)
	}
	for _, c := range append(canaries, admin.token, cgc.token) {
		if strings.Contains(out, c) {
			t.Errorf("log holds %q", c)
		}
	}
}
