package api_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/hsds"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/search"
)

// TestDocsListEveryRoute checks that each route of the API server alone has
// a "### METHOD /path" heading in docs/api.md. The other direction (each
// heading is a route) needs the routes other packages mount on the same
// router (calls, escalation): node/apidocs_test.go checks both directions
// on a running node.
func TestDocsListEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../docs/api.md")
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
	// Every optional route group mounted: the federation's (search,
	// peers, HSDS) and the qualification services (zero values, never
	// called: only their routes are walked).
	e := newEnv(t)
	s := api.New(api.Deps{Auth: e.auth, Audit: e.audit,
		Info: func() api.NodeInfo { return api.NodeInfo{} }, Metrics: prometheus.NewRegistry(),
		Domains: []httpx.Routes{e.care, e.own, &search.Catalogue{}, catalogue.Coops(nil), hsds.API{},
			qualify.Services{Service: new(qualify.Service), Coop: new(qualify.Coop), Authority: new(qualify.Authority)}}})
	served := map[string]bool{}
	for r := range routeSet(t, s.Router) {
		if isAPIRoute(r) {
			served[r] = true
		}
	}
	for _, r := range sortedKeys(served) {
		if !documented[r] {
			t.Errorf("route %s is not documented in docs/api.md", r)
		}
	}
	if len(served) < 30 {
		t.Fatalf("only %d API routes found: the walk is broken", len(served))
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
