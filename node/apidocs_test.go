package node

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/qualify"
)

// TestDocsListEveryNodeRoute keeps docs/api.md in step with what a running
// node serves: every route of the node's real router under /api/,
// /healthz, /readyz and /metrics — the API server's own, the call
// service's, escalation's and notification's, the qualification and
// authority routes — has a "### METHOD /path" heading, and every such
// heading is a route. The node runs every optional part: federation on
// loopback and an authority key.
func TestDocsListEveryNodeRoute(t *testing.T) {
	raw, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`(?m)^### (GET|POST|PUT|DELETE|PATCH) (/\S*)\s*$`)
	documented := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(raw), -1) {
		k := m[1] + " " + m[2]
		if documented[k] {
			t.Errorf("docs/api.md documents %s twice", k)
		}
		documented[k] = true
	}

	n := fullNode(t)

	served := map[string]bool{}
	err = n.api.Router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := rt.GetMethods()
		if err != nil {
			return nil // a path prefix (subrouter), not an endpoint
		}
		if !strings.HasPrefix(tpl, "/api/") && tpl != "/healthz" && tpl != "/readyz" && tpl != "/metrics" {
			return nil
		}
		for _, m := range ms {
			served[m+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range slices.Sorted(maps.Keys(served)) {
		if !documented[r] {
			t.Errorf("route %s is not documented in docs/api.md", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !served[r] {
			t.Errorf("docs/api.md documents %s, which the node does not serve", r)
		}
	}
	// Some routes of each service that mounts its own, so a walk that
	// misses a router fails here rather than passing on an empty set.
	for _, r := range []string{"GET /api/v1/beneficiaries", "GET /api/v1/calls/agenda", "POST /api/v1/outcomes",
		"GET /api/v1/inbox", "GET /api/v1/authority/applications", "GET /api/v1/catalogue/search"} {
		if !served[r] {
			t.Errorf("the walk did not find %s", r)
		}
	}
}

// fullNode starts a node that runs every optional part, federation on
// loopback and an authority key included, and closes it at the end.
func fullNode(t *testing.T) *Node {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "authority.json")
	if _, err := qualify.GenerateKey(keyFile, time.Now()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{
		DataDir: filepath.Join(dir, "data"), HTTPListener: ln, AdminPassword: "admin-password-1",
		Argon:     auth.Params{Memory: 64, Time: 1, Threads: 1},
		P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, MembersAddr: "127.0.0.1:0", MembersProfile: "lan",
		AuthorityKeyFile: keyFile, AuthorityName: "Comune di prova", AuthorityTerritory: []string{"080063"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if n.fed == nil || n.Authority() == nil || n.Calls() == nil || n.Escalation() == nil || n.Notify() == nil {
		t.Fatal("the node does not run every optional service")
	}
	return n
}
