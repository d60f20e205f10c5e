package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, _ := runBin(t, nil, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"difronte ", "commit ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want string // in stderr
	}{
		{"no command", nil, nil, "Usage: difronte"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", nil, []string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{"bad http flag", nil, []string{"serve", "--http", "nonsense"}, `--http "nonsense"`},
		{"bad http env", []string{"DIFRONTE_HTTP=bad"}, []string{"serve"}, `"bad"`},
		{"bad bool env", []string{"DIFRONTE_DEMO=maybe"}, []string{"serve"}, "DIFRONTE_DEMO"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"bad members", nil, []string{"serve", "--members", "x"}, "--members"},
		{"empty coop", nil, []string{"serve", "--coop-name", " "}, "--coop-name"},
		{"oidc without client", nil, []string{"serve", "--oidc-issuer", "https://id.example"}, "--oidc-client-id"},
		{"bad time zone", nil, []string{"serve", "--time-zone", "Mars/Olympus"}, "--time-zone"},
		{"bad time zone env", []string{"DIFRONTE_TIME_ZONE=Nowhere"}, []string{"serve"}, "--time-zone"},
		{"stray argument", nil, []string{"version", "extra"}, `unexpected argument "extra"`},
		{"backup without out", nil, []string{"backup"}, "--out is required"},
		{"restore without in", nil, []string{"restore"}, "--in is required"},
		{"missing password file", []string{"DIFRONTE_ADMIN_PASSWORD_FILE=/nonexistent/pw"}, []string{"serve", "--data", "x"}, "DIFRONTE_ADMIN_PASSWORD_FILE"},
		{"weak admin password", []string{"DIFRONTE_ADMIN_PASSWORD=short"}, []string{"serve", "--data", "x"}, "admin password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, stderr := runBin(t, c.env, c.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr lacks %q:\n%s", c.want, stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatal("a usage error wrote files")
			}
		})
	}
	if _, err := os.Stat("x"); err == nil {
		t.Fatal("a refused serve created its data directory")
	}
}

func TestHelpListsEveryFlagWithEnvAndDefault(t *testing.T) {
	code, _, stderr := runBin(t, nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	found := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(stderr, -1) {
		found[m[1]] = true
	}
	want := map[string]string{ // flag -> default shown ("" = zero value, not shown)
		"data": "data", "http": "127.0.0.1:8080", "coop-name": "Cooperativa", "demo": "",
		"log-level": "info", "p2p": "", "bootstrap": "", "announce": "", "federation-secret": "",
		"members": "0.0.0.0:0", "members-profile": "wan", "secure-cookies": "", "time-zone": "Europe/Rome",
	}
	for f := range want {
		if !found[f] {
			t.Errorf("--help does not list -%s", f)
		}
	}
	// Every flag, also those added later, shows its environment twin; the
	// ones above also their default.
	for f := range found {
		// The flag's block runs to the next flag line.
		i := strings.Index(stderr, "  -"+f)
		block := stderr[i:]
		if j := flagLine.FindStringIndex(block[3:]); j != nil {
			block = block[:3+j[0]]
		}
		if env := envName(f); !strings.Contains(block, "(env "+env+")") {
			t.Errorf("-%s: help lacks its environment twin %s:\n%s", f, env, block)
		}
		if def := want[f]; def != "" && !strings.Contains(block, `(default "`+def+`")`) {
			t.Errorf("-%s: help lacks its default %q:\n%s", f, def, block)
		}
	}
	for _, sub := range []string{"backup", "restore", "version"} {
		if code, _, _ := runBin(t, nil, sub, "--help"); code != 0 {
			t.Errorf("%s --help exit %d", sub, code)
		}
	}
}

func TestFirstStartKeyAndAdminPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := serve(t, dir, nil)
	out := p.stdoutText()
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "username: admin") {
		t.Fatalf("first start did not print the admin password:\n%s", out)
	}
	fi, err := os.Stat(filepath.Join(dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("node.key mode %v, want 0600", fi.Mode().Perm())
	}
	a := newAPI(t, p.url)
	a.login("admin", m[1])
	a.close()
	if strings.Contains(p.output(), m[1]+"\n") && strings.Count(p.output(), m[1]) > 1 {
		t.Fatal("the password appears more than once in the output")
	}
	if strings.Contains(p.output()[strings.Index(p.output(), "stderr:"):], m[1]) {
		t.Fatal("the password reached the log")
	}
	p.stop()

	p = serve(t, dir, nil)
	if strings.Contains(p.stdoutText(), "password") {
		t.Fatalf("second start printed a password:\n%s", p.stdoutText())
	}
	a = newAPI(t, p.url)
	a.login("admin", m[1])
	a.close()
	p.stop()
}

func TestAdminPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("una-password-dal-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := serve(t, filepath.Join(dir, "data"), []string{"DIFRONTE_ADMIN_PASSWORD_FILE=" + pwFile})
	if strings.Contains(p.stdoutText(), "password:") {
		t.Fatalf("a chosen password was printed:\n%s", p.stdoutText())
	}
	a := newAPI(t, p.url)
	defer a.close()
	a.login("admin", "una-password-dal-file")
	var node struct {
		PeerID string `json:"peer_id"`
	}
	a.must(http.StatusOK, "GET", "/api/v1/node", nil, &node)
	if node.PeerID == "" {
		t.Fatal("no peer id")
	}
	p.stop()
}
