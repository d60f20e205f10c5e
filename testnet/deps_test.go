package testnet

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The dependency rules of the house, as data. A pattern is an import path,
// or a path ending in "/..." for it and everything below it. Paths starting
// with "./" are in this module. Dependencies are transitive and of non-test
// code only (go list -deps): a test may import what it needs.
const mod = "github.com/difronte/difronte"

type depRule struct {
	from   string   // the packages the rule is about
	except []string // packages under from that the rule leaves alone
	never  []string // what they must not depend on
	// only, when set, is everything outside the standard library they may
	// depend on.
	only []string
	why  string
}

var depRules = []depRule{
	{from: "./schema/...", never: []string{"./federation/...", "./node/...", "./cmd/...", "./testnet/...", "./web/..."},
		why: "imports point one way: schema ← federation ← node ← cmd"},
	{from: "./schema/...", only: []string{"./schema/...", "github.com/go-jose/go-jose/v4/...", "golang.org/x/crypto/..."},
		why: "schema is the standard library and go-jose only, so an independent client can reuse it"},
	{from: "./federation/...", never: []string{"./node/...", "./cmd/...", "./testnet/...", "./web/..."},
		why: "imports point one way: schema ← federation ← node ← cmd"},
	{from: "./node/...", never: []string{"./cmd/...", "./testnet/..."},
		why: "imports point one way: schema ← federation ← node ← cmd"},
	{from: "./web/...", never: []string{"./node/...", "./federation/...", "./cmd/...", "./testnet/..."},
		why: "web is assets and template helpers"},
	{from: "./...", except: []string{"./testnet/..."}, never: []string{"./testnet/..."},
		why: "nothing imports testnet: it is tests, benchmarks and the dev command"},
	{from: "./cmd/difronte", never: []string{"testing", "testing/...", "go.uber.org/goleak/...",
		"github.com/libp2p/go-libp2p/p2p/net/mock", "./federation/clock/fakeclock", "./testnet/...", "./node/calls/peer", "./node/demo"},
		why: "the production binary links no test code, no test fake and no development peer"},
}

// notDomains are the node/<x> packages that are not domains: the
// infrastructure every domain may use and the transports on top. Every
// other node/<x> (and what is below it) is a domain, which owns its rules,
// storage and routes and never depends on a transport.
var notDomains = []string{"api", "webui", "store", "audit", "auth", "problem", "httpx", "clock"}

// transports are what a domain never depends on.
var transports = []string{"./node/api/...", "./node/webui/..."}

// domainRules is one rule per domain found under node/.
func domainRules(pkgs map[string]*listedPackage) []depRule {
	seen := map[string]bool{}
	var out []depRule
	for path := range pkgs {
		rest, ok := strings.CutPrefix(path, mod+"/node/")
		if !ok {
			continue
		}
		d, _, _ := strings.Cut(rest, "/")
		if seen[d] || slices.Contains(notDomains, d) {
			continue
		}
		seen[d] = true
		out = append(out, depRule{from: "./node/" + d + "/...", never: transports,
			why: "a domain owns its routes and imports no transport (node/api, node/webui)"})
	}
	slices.SortFunc(out, func(a, b depRule) int { return strings.Compare(a.from, b.from) })
	return out
}

type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module: every package and every
// dependency, with its direct imports and its transitive dependencies.
func listPackages(t *testing.T) map[string]*listedPackage {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", "./...")
	cmd.Dir = filepath.Dir(filepath.Dir(file))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// matches says whether path matches pattern.
func matches(pattern, path string) bool {
	if p, ok := strings.CutPrefix(pattern, "./"); ok {
		pattern = mod + "/" + p
		if p == "..." {
			pattern = mod + "/..."
		}
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func matchesAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, path) })
}

// importChain is a shortest chain of imports from one package to another,
// to say where a forbidden dependency comes in.
func importChain(pkgs map[string]*listedPackage, from, to string) string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			chain := []string{}
			for ; p != ""; p = prev[p] {
				chain = append(chain, strings.TrimPrefix(p, mod+"/"))
			}
			slices.Reverse(chain)
			return strings.Join(chain, " → ")
		}
		if pkgs[p] == nil {
			continue
		}
		for _, imp := range pkgs[p].Imports {
			if _, ok := prev[imp]; !ok {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return from + " → … → " + to
}

// TestDeps keeps the imports pointing the way the house is built (the
// table above): a rule that matches no package fails too, so a renamed
// folder cannot silently turn a rule off.
func TestDeps(t *testing.T) {
	pkgs := listPackages(t)
	rules := append(slices.Clone(depRules), domainRules(pkgs)...)
	if len(rules) == len(depRules) {
		t.Fatal("found no domain under node/")
	}
	var paths []string
	for path := range pkgs {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for _, r := range rules {
		checked := 0
		for _, path := range paths {
			p := pkgs[path]
			if !matches(mod+"/...", path) || !matches(r.from, path) || matchesAny(r.except, path) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				std := pkgs[d] != nil && pkgs[d].Standard
				if matchesAny(r.never, d) || (r.only != nil && !std && !matchesAny(r.only, d)) {
					t.Errorf("%s depends on %s (%s): %s", path, d, r.why, importChain(pkgs, path, d))
				}
			}
		}
		if checked == 0 {
			t.Errorf("rule for %s matches no package", r.from)
		}
	}
}
