// Command mutate breaks the code on purpose and checks that the tests
// notice. Each mutation in the list (list.go) names a file, a snippet that
// must occur in it exactly once, what replaces it, and the packages whose
// tests must then fail. The mutated file is handed to the compiler through
// `go test -overlay`, so the source tree is never written: an interrupted
// run leaves nothing to restore, and other builds in the same tree never
// see a mutant.
//
// Usage (from the module root; `make mutate` does this):
//
//	go run ./bench/mutate [-only name,name] [-timeout 5m] [-write docs/TESTING.md]
//
// It first runs every listed package unmutated (all must pass), then each
// mutation, and prints a killed/survived table. With -write, the table
// replaces the text between the mutate markers of that file. The exit
// status is 1 if any mutation survived or could not be applied.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Mutation is one deliberate break of behaviour that matters.
type Mutation struct {
	Name string   // short, unique: how -only selects it
	What string   // the behaviour broken, in words
	File string   // path from the module root
	From string   // snippet that must occur exactly once in File
	To   string   // its replacement
	Pkgs []string // packages whose tests must kill it
}

// Outcome of one run.
const (
	Killed   = "killed"
	Survived = "survived"
	Invalid  = "invalid" // the mutant did not apply or did not compile
)

type result struct {
	m       Mutation
	outcome string
	took    time.Duration
	detail  string // the first failing test, or why invalid
}

func main() {
	only := flag.String("only", "", "comma-separated mutation names to run (default: all)")
	timeout := flag.Duration("timeout", 5*time.Minute, "go test -timeout for each package run")
	write := flag.String("write", "", "file whose mutate section receives the table")
	list := flag.Bool("list", false, "list the mutations and exit")
	flag.Parse()

	ms := mutations
	if *only != "" {
		names := strings.Split(*only, ",")
		ms = slices.DeleteFunc(slices.Clone(ms), func(m Mutation) bool { return !slices.Contains(names, m.Name) })
	}
	if *list {
		for _, m := range ms {
			fmt.Printf("%-28s %-34s %s\n", m.Name, m.File, m.What)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "mutate-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)

	r := &runner{tmp: tmp, timeout: *timeout}
	if err := r.baseline(ctx, ms); err != nil {
		fatal(err)
	}
	var results []result
	for i, m := range ms {
		res := r.run(ctx, m)
		if ctx.Err() != nil {
			fatal(errors.New("interrupted; the source tree was never modified"))
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %-28s %-8s %5.1fs %s\n", i+1, len(ms), m.Name, res.outcome, res.took.Seconds(), res.detail)
		results = append(results, res)
	}
	table := render(results)
	fmt.Print(table)
	if *write != "" {
		if err := writeSection(*write, table); err != nil {
			fatal(err)
		}
	}
	for _, res := range results {
		if res.outcome != Killed {
			os.Exit(1)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(2)
}

type runner struct {
	tmp     string
	timeout time.Duration
	n       int
}

// baseline runs each package once unmutated: a mutation counts as killed
// only if its packages pass without it.
func (r *runner) baseline(ctx context.Context, ms []Mutation) error {
	var pkgs []string
	for _, m := range ms {
		for _, p := range m.Pkgs {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "baseline: %s\n", strings.Join(pkgs, " "))
	out, err := r.goTest(ctx, "", pkgs)
	if err != nil {
		return fmt.Errorf("the unmutated tests fail (%v):\n%s", err, out)
	}
	return nil
}

func (r *runner) run(ctx context.Context, m Mutation) result {
	start := time.Now()
	res := result{m: m}
	overlay, err := r.overlay(m)
	if err != nil {
		res.outcome, res.detail = Invalid, err.Error()
		return res
	}
	out, err := r.goTest(ctx, overlay, m.Pkgs)
	res.took = time.Since(start)
	switch {
	case err == nil:
		res.outcome = Survived
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		res.outcome, res.detail = Invalid, "does not compile: "+firstLine(out, "")
	default:
		name, _, _ := strings.Cut(strings.TrimPrefix(firstLine(out, "--- FAIL: "), "--- FAIL: "), " (")
		res.outcome, res.detail = Killed, name
	}
	return res
}

// overlay writes the mutated file and the overlay description that points
// the compiler at it.
func (r *runner) overlay(m Mutation) (string, error) {
	src, err := os.ReadFile(m.File)
	if err != nil {
		return "", err
	}
	text := string(src)
	if n := strings.Count(text, m.From); n != 1 {
		return "", fmt.Errorf("%s: snippet %q occurs %d times, want 1", m.File, firstLineOf(m.From), n)
	}
	text = strings.Replace(text, m.From, m.To, 1)
	r.n++
	abs, err := filepath.Abs(m.File)
	if err != nil {
		return "", err
	}
	mutant := filepath.Join(r.tmp, fmt.Sprintf("%d-%s", r.n, filepath.Base(m.File)))
	if err := os.WriteFile(mutant, []byte(text), 0o644); err != nil {
		return "", err
	}
	desc, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: mutant}})
	path := filepath.Join(r.tmp, fmt.Sprintf("%d-overlay.json", r.n))
	return path, os.WriteFile(path, desc, 0o644)
}

// goTest runs the tests of pkgs, stopping at the first failure, and kills
// the whole process group if ctx ends.
func (r *runner) goTest(ctx context.Context, overlay string, pkgs []string) ([]byte, error) {
	args := []string{"test", "-count=1", "-failfast", "-p=1", "-timeout", r.timeout.String()}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.Bytes(), ctx.Err()
	}
}

func firstLine(out []byte, prefix string) string {
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && strings.HasPrefix(l, prefix) {
			return firstLineOf(l)
		}
	}
	return ""
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}

func render(results []result) string {
	var b strings.Builder
	killed := 0
	for _, r := range results {
		if r.outcome == Killed {
			killed++
		}
	}
	fmt.Fprintf(&b, "%d of %d mutations killed.\n\n", killed, len(results))
	b.WriteString("| mutation | behaviour broken | file | tests run | outcome | first failing test |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | **%s** | %s |\n", r.m.Name, r.m.What, r.m.File,
			strings.Join(r.m.Pkgs, " "), r.outcome, strings.ReplaceAll(r.detail, "|", "\\|"))
	}
	return b.String()
}

const (
	beginMark = "<!-- mutate:begin (written by go run ./bench/mutate -write) -->"
	endMark   = "<!-- mutate:end -->"
)

func writeSection(path, table string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	head, rest, ok1 := strings.Cut(string(src), beginMark)
	_, tail, ok2 := strings.Cut(rest, endMark)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: no mutate markers", path)
	}
	return os.WriteFile(path, []byte(head+beginMark+"\n"+table+endMark+tail), 0o644)
}
