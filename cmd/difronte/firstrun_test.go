package main

// The first ten minutes of a new coop, run with the built binary: what a
// newcomer meets with `difronte --help`, a taken port, `serve --demo`, a
// forgotten admin password and the logs.

import (
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/localnet"
)

func TestUsageErrorIsOneLineThenHint(t *testing.T) {
	cases := []struct {
		args       []string
		first      string // the first line holds this
		notInFirst string
	}{
		{[]string{"--bogus"}, `unknown flag "--bogus"`, "unknown command"},
		{[]string{"-x"}, `unknown flag "-x"`, "unknown command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus", ""},
		{[]string{"serve", "--http"}, "flag needs an argument: -http", ""},
		{[]string{"backup"}, "--out is required", ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, stderr := runBin(t, nil, c.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if !strings.Contains(lines[0], c.first) || (c.notInFirst != "" && strings.Contains(lines[0], c.notInFirst)) {
				t.Fatalf("first line %q, want %q in it (and not %q)", lines[0], c.first, c.notInFirst)
			}
			if len(lines) != 2 || !strings.Contains(lines[1], "--help") {
				t.Fatalf("want the error and a hint to --help, nothing else; got:\n%s", stderr)
			}
		})
	}
	// Help itself still prints the usage, and exits 0.
	code, _, stderr := runBin(t, nil, "serve", "--help")
	if code != 0 || !strings.Contains(stderr, "  -http") {
		t.Fatalf("serve --help: exit %d:\n%s", code, stderr)
	}
}

func TestServeHelpListsAdminPasswordVariables(t *testing.T) {
	code, _, stderr := runBin(t, nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, v := range []string{"DIFRONTE_ADMIN_PASSWORD\n", "DIFRONTE_ADMIN_PASSWORD_FILE\n"} {
		if !strings.Contains(stderr, "  "+v) {
			t.Errorf("serve --help does not list %s", strings.TrimSpace(v))
		}
	}
}

// TestPortTakenBeforeFirstStart: a first start on a taken address creates
// nothing, so the next start on a free address creates the admin and
// shows its password.
func TestPortTakenBeforeFirstStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, demo := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "data")
		args := []string{"serve", "--data", dir, "--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--http", taken.Addr().String()}
		if demo {
			args = append(args, "--demo")
		}
		code, stdout, stderr := runBin(t, nil, args...)
		if code == 0 {
			t.Fatalf("demo %v: a start on a taken port exited 0", demo)
		}
		if strings.Contains(stdout, "password") {
			t.Fatalf("demo %v: a failed start printed a password:\n%s", demo, stdout)
		}
		for _, want := range []string{taken.Addr().String(), "--http", "DIFRONTE_HTTP"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("demo %v: the error does not name %s:\n%s", demo, want, stderr)
			}
		}
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			t.Fatalf("demo %v: a failed start left %d entries in the data directory", demo, len(entries))
		}
	}
	dir := filepath.Join(t.TempDir(), "data")
	p := serve(t, dir, nil)
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(p.stdoutText())
	if m == nil {
		t.Fatalf("the start on a free port did not show the password:\n%s", p.output())
	}
	a := newAPI(t, p.url)
	a.login("admin", m[1])
	a.close()
	p.stop()
}

func TestDemoPrintsOneSummaryOfItsAccounts(t *testing.T) {
	p := serve(t, filepath.Join(t.TempDir(), "data"), nil, "--demo")
	out := p.stdoutText()
	if n := strings.Count(out, "Created the first account."); n != 1 {
		t.Fatalf(`"Created the first account." printed %d times:\n%s`, n, out)
	}
	m := regexp.MustCompile(`Created (\d+) demo accounts, all with the password (\S+) `).FindStringSubmatch(out)
	if m == nil || strings.Count(out, "demo accounts") != 1 {
		t.Fatalf("no single summary of the demo accounts:\n%s", out)
	}
	for _, u := range []string{"operatore", "officina", "giulia.ferrari"} {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(u) + ` +\S+$`).MatchString(out) {
			t.Errorf("the summary does not list %s with its role:\n%s", u, out)
		}
	}
	a := newAPI(t, p.url)
	a.login("operatore", m[2])
	a.close()
	p.stop()
}

// TestResetPassword: with the node stopped, reset-password gives the admin
// a new password that logs in, ends the old sessions and is audited; with
// the node running, or on a directory without a node, it says so.
func TestResetPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := serve(t, dir, []string{"DIFRONTE_ADMIN_PASSWORD=vecchia-lanterna-sul-molo"})
	old := newAPI(t, p.url)
	old.login("admin", "vecchia-lanterna-sul-molo")
	code, _, stderr := runBin(t, nil, "admin", "reset-password", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "the node is running") || !strings.Contains(stderr, "stop it first") {
		t.Fatalf("reset on a running node: exit %d:\n%s", code, stderr)
	}
	p.stop()

	code, stdout, stderr := runBin(t, nil, "admin", "reset-password", "--data", dir)
	if code != 0 {
		t.Fatalf("reset: exit %d:\n%s", code, stderr)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(stdout)
	if m == nil || !strings.Contains(stdout, "username: admin") {
		t.Fatalf("reset did not print the new password:\n%s", stdout)
	}

	p = serve(t, dir, nil)
	defer p.stop()
	a := newAPI(t, p.url)
	defer a.close()
	a.login("admin", m[1])
	old.base = p.url
	if code, _, _ := old.call("GET", "/api/v1/accounts", nil); code != http.StatusUnauthorized {
		t.Errorf("a session from before the reset: %d, want 401", code)
	}
	if code, _, _ := newAPI(t, p.url).call("POST", "/api/v1/login", map[string]string{"username": "admin", "password": "vecchia-lanterna-sul-molo"}); code != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", code)
	}
	var log struct {
		Events []struct{ Actor, Action, Kind, Object, Detail string }
	}
	a.must(http.StatusOK, "GET", "/api/v1/audit?kind=account&object=admin", nil, &log)
	found := false
	for _, e := range log.Events {
		found = found || (e.Actor == "system" && e.Action == "update" && e.Detail == "password reset")
	}
	if !found {
		t.Fatalf("the audit log has no reset event: %+v", log.Events)
	}
}

func TestResetPasswordChosenAndRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := serve(t, dir, []string{"DIFRONTE_ADMIN_PASSWORD=vecchia-lanterna-sul-molo"}, "--coop-name", "Cooperativa Aurora")
	p.stop()
	pwFile := filepath.Join(t.TempDir(), "pw")
	write := func(pw string) {
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		pw   string // written to pwFile first
		code int
		want string // in stderr
	}{
		{"no node", nil, []string{"--data", empty}, "", 1, "no node in this data directory"},
		{"missing dir", nil, []string{"--data", filepath.Join(empty, "nope")}, "", 1, "no node in this data directory"},
		{"unknown user", nil, []string{"--data", dir, "--user", "nessuno"}, "", 1, `no such account: "nessuno"`},
		{"weak", []string{"DIFRONTE_ADMIN_PASSWORD=1234567890"}, []string{"--data", dir}, "", 2, "new password refused"},
		{"coop name", nil, []string{"--data", dir, "--coop-name", "Cooperativa Aurora", "--password-file", pwFile}, "aurora-aurora-2024", 2, "new password refused"},
		{"missing file", nil, []string{"--data", dir, "--password-file", filepath.Join(empty, "nope")}, "", 2, "--password-file"},
		{"from file", []string{"DIFRONTE_ADMIN_PASSWORD=ignored-when-a-file-is-given"}, []string{"--data", dir, "--password-file", pwFile}, "nuova-bussola-nel-cassetto", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.pw != "" {
				write(c.pw)
			}
			code, stdout, stderr := runBin(t, c.env, append([]string{"admin", "reset-password"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, c.code, c.want, stderr)
			}
			if strings.Contains(stdout, "password:") {
				t.Fatalf("a chosen or refused password was printed:\n%s", stdout)
			}
		})
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatal("reset-password wrote into a directory without a node")
	}
	p = serve(t, dir, nil)
	a := newAPI(t, p.url)
	a.login("admin", "nuova-bussola-nel-cassetto")
	a.close()
	p.stop()
}

// TestLogLinesRepeatNoKey: from the start to the shutdown of two nodes
// that catch up with each other, at debug level, no log line carries a key
// twice (component=federation ... component=pubsub, peer=self ... peer=other).
func TestLogLinesRepeatNoKey(t *testing.T) {
	debug := []string{"DIFRONTE_LOG_LEVEL=debug"}
	a := serve(t, filepath.Join(t.TempDir(), "a"), debug)
	var info struct{ Addrs []string }
	newAPI(t, a.url).must(http.StatusOK, "GET", "/api/v1/node", nil, &info)
	var boot []string
	for _, addr := range info.Addrs {
		if strings.HasPrefix(addr, "/ip4/127.0.0.1/tcp/") {
			boot = append(boot, "--bootstrap", addr)
		}
	}
	b := serve(t, filepath.Join(t.TempDir(), "b"), debug, append(boot, "--coop-name", "Cooperativa B")...)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.output(), "catch-up done") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	b.stop()
	a.stop()
	logs := a.output() + b.output()
	for _, want := range []string{"component=pubsub", "component=members", "component=catchup", "catch-up done"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the debug logs lack %q:\n%s", want, logs)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "time=") {
			continue
		}
		seen := map[string]bool{}
		for _, k := range logKeys(line) {
			if seen[k] {
				t.Errorf("key %s repeated: %s", k, line)
			}
			seen[k] = true
		}
	}
}

// logKeys returns the keys of a slog text line, in order.
func logKeys(line string) []string {
	var keys []string
	for line != "" {
		line = strings.TrimLeft(line, " ")
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			break
		}
		keys = append(keys, k)
		if strings.HasPrefix(rest, `"`) {
			v, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			rest = rest[len(v):]
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
		line = rest
	}
	return keys
}

// TestTestnetPortsAvoidServe: `make testnet` (the testnet's default port
// plan) and `make run` (serve's default address) run side by side.
func TestTestnetPortsAvoidServe(t *testing.T) {
	_, servePort, err := net.SplitHostPort(defaultHTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	var f localnet.Flags
	f.Register(flag.NewFlagSet("testnet", flag.ContinueOnError))
	for _, nodes := range []int{f.Nodes, 8, 64} {
		authority, coops := localnet.HTTPPorts(f.HTTPBasePort, nodes)
		for _, port := range append([]int{authority}, coops...) {
			if strconv.Itoa(port) == servePort {
				t.Fatalf("with %d nodes the testnet takes serve's port %s", nodes, servePort)
			}
		}
	}
}

// TestImportHSDSTakesItsFile: `import hsds [--data DIR] FILE`, as its help
// says, takes the file after the flags (a stray argument is still refused).
func TestImportHSDSTakesItsFile(t *testing.T) {
	src, dst, out := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst"), t.TempDir()
	serve(t, src, nil, "--demo").stop()
	if code, _, stderr := runBin(t, nil, "export", "hsds", "--data", src, "--out", out); code != 0 {
		t.Fatalf("export: exit %d:\n%s", code, stderr)
	}
	serve(t, dst, nil).stop()
	services := filepath.Join(out, "services.json")
	code, stdout, stderr := runBin(t, nil, "import", "hsds", "--data", dst, services)
	if code != 0 || !regexp.MustCompile(`Imported [1-9]\d* services`).MatchString(stdout) {
		t.Fatalf("import: exit %d:\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runBin(t, nil, "import", "hsds", "--data", dst, services, "extra"); code != 2 || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Fatalf("import with a stray argument: exit %d:\n%s", code, stderr)
	}
}
