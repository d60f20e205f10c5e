package api_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/search"
)

// TestDocsListEveryRoute keeps docs/api.md and the router in step: each API
// route has a "### METHOD /path" heading and each heading is a route.
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
	// Every optional route group mounted: the federation (a fake that is
	// never called) and the qualification services (zero values, only
	// their routes are walked).
	e := newEnv(t)
	s := api.New(api.Deps{Auth: e.auth, Care: e.care, Own: e.own, Audit: e.audit,
		Info: func() api.NodeInfo { return api.NodeInfo{} }, Federation: noFederation{}, Metrics: prometheus.NewRegistry()})
	api.MountQualify(s, api.QualifyDeps{Service: new(qualify.Service), Coop: new(qualify.Coop), Authority: new(qualify.Authority)})
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
	for _, r := range sortedKeys(documented) {
		if !served[r] {
			t.Errorf("docs/api.md documents %s, which the server does not have", r)
		}
	}
	if len(served) < 30 {
		t.Fatalf("only %d API routes found: the walk is broken", len(served))
	}
}

type noFederation struct{}

func (noFederation) Catalogue() *catalog.Catalogue { return nil }
func (noFederation) Search() *search.Index         { return nil }
func (noFederation) Replica() *replica.Replica     { return nil }
func (noFederation) Coops() []api.Coop             { return nil }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
