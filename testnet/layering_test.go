package testnet

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLayering keeps the imports pointing one way: schema ← federation ←
// node ← cmd, testnet used by nobody, schema on the standard library and
// go-jose only (so an independent client can reuse it).
func TestLayering(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	const mod = "github.com/difronte/difronte"
	deps := func(pkgs ...string) []string {
		cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %v: %v", pkgs, err)
		}
		return strings.Fields(string(out))
	}
	forbidden := map[string][]string{
		"./schema/...":     {mod + "/federation", mod + "/node", mod + "/cmd", mod + "/testnet", mod + "/web"},
		"./federation/...": {mod + "/node", mod + "/cmd", mod + "/testnet", mod + "/web"},
		"./node/...":       {mod + "/cmd", mod + "/testnet"},
		"./web/...":        {mod + "/node", mod + "/federation", mod + "/cmd", mod + "/testnet"},
	}
	for pkgs, bad := range forbidden {
		for _, d := range deps(pkgs) {
			for _, b := range bad {
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s depends on %s", pkgs, d)
				}
			}
		}
	}
	// schema: the standard library and go-jose, nothing else.
	for _, d := range deps("./schema") {
		first := strings.Split(d, "/")[0]
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		if d == mod+"/schema" || strings.HasPrefix(d, "github.com/go-jose/go-jose/v4") || strings.HasPrefix(d, "golang.org/x/crypto") {
			continue
		}
		t.Errorf("schema depends on %s", d)
	}
}
