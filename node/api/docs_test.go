package api_test

import (
	"os"
	"regexp"
	"slices"
	"testing"
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
	e := newEnv(t)
	served := map[string]bool{}
	for r := range routeSet(t, e.api.Router) {
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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
