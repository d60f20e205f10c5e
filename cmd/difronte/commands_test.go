package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCatalogueCommands runs export hsds, import hsds and reindex on the
// built binary against the data directories of stopped nodes, as an
// operator types them.
func TestCatalogueCommands(t *testing.T) {
	root := t.TempDir()
	src, dst, out := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "hsds")
	env := []string{"DIFRONTE_ADMIN_PASSWORD=password-catalogo"}
	serve(t, src, env, "--demo").stop()
	serve(t, dst, env).stop()

	code, stdout, stderr := runBin(t, nil, "export", "hsds", "--data", src, "--out", out)
	m := regexp.MustCompile(`Exported (\d+) services`).FindStringSubmatch(stdout)
	if code != 0 || m == nil || m[1] == "0" {
		t.Fatalf("export hsds: exit %d\n%s%s", code, stdout, stderr)
	}
	services := filepath.Join(out, "services.json")
	for _, f := range []string{"services.json", "organizations.json", "taxonomies.json", "taxonomy_terms.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("export hsds: %v", err)
		}
	}

	// The flags before the file, as the usage line has it, and after it.
	for _, args := range [][]string{
		{"import", "hsds", "--data", dst, services},
		{"import", "hsds", services, "--data", dst},
	} {
		code, stdout, stderr = runBin(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "Imported "+m[1]+" services, skipped 0") {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	for _, args := range [][]string{
		{"import", "hsds", "--data", dst},
		{"import", "hsds", "--data", dst, services, services},
	} {
		if code, _, stderr = runBin(t, nil, args...); code != 2 || !strings.Contains(stderr, "give one HSDS JSON file") {
			t.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	if code, _, stderr = runBin(t, nil, "import", "hsds", "--data", dst, filepath.Join(root, "none.json")); code != 1 {
		t.Fatalf("import of a missing file: exit %d\n%s", code, stderr)
	}

	code, stdout, stderr = runBin(t, nil, "reindex", "--data", dst)
	if code != 0 || !strings.Contains(stdout, "Search index rebuilt") {
		t.Fatalf("reindex: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr = runBin(t, nil, "reindex", "--data", filepath.Join(root, "empty")); code != 1 || !strings.Contains(stderr, "no node data") {
		t.Fatalf("reindex of no node: exit %d\n%s", code, stderr)
	}

	// The node holds the imported offerings as its own.
	p := serve(t, dst, env)
	a := newAPI(t, p.url)
	a.login("admin", "password-catalogo")
	var own struct{ Total int }
	a.must(http.StatusOK, "GET", "/api/v1/offerings", nil, &own)
	if strconv.Itoa(own.Total) != m[1] {
		t.Fatalf("own offerings after import: %d, want %s", own.Total, m[1])
	}
	a.close()
	p.stop()
}

func TestAuthorityKeygen(t *testing.T) {
	file := filepath.Join(t.TempDir(), "authority.key")
	code, stdout, stderr := runBin(t, nil, "authority", "keygen", "--out", file, "--name", "Regione", "--territory", "080, 081")
	if code != 0 {
		t.Fatalf("authority keygen: exit %d\n%s", code, stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(stdout), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("printed JWKS: %v\n%s", err, stdout)
	}
	for _, want := range []string{"Regione", "080", "081"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("printed JWKS lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr = runBin(t, nil, "authority", "keygen"); code != 2 || !strings.Contains(stderr, "--out is required") {
		t.Fatalf("keygen without --out: exit %d\n%s", code, stderr)
	}
	if code, _, _ = runBin(t, nil, "authority", "rotate"); code != 2 {
		t.Fatalf("authority rotate: exit %d", code)
	}
}

// TestTestnetStartsAndStops runs `difronte testnet` with one coop, waits
// until it says the federation is running and stops it with SIGTERM.
func TestTestnetStartsAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an authority and a coop node")
	}
	cmd := exec.Command(binary, "testnet", "--nodes", "1", "--http-base-port", strconv.Itoa(freePorts(t, 2)), "--data", filepath.Join(t.TempDir(), "net"))
	cmd.Env = append(cleanEnv(), "DIFRONTE_ADMIN_PASSWORD=password-testnet")
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	var mu sync.Mutex
	cmd.Stderr = &lockedWriter{mu: &mu, w: &stderr}
	errText := func() string { mu.Lock(); defer mu.Unlock(); return stderr.String() }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines, exited := make(chan string, 64), make(chan struct{})
	var waitErr error
	go func() {
		sc := bufio.NewScanner(outPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range lines {
		}
		<-exited
	})
	var seen []string
	wait := func(want string, d time.Duration) {
		t.Helper()
		deadline := time.After(d)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("testnet output ended before %q:\n%s\nstderr:\n%s", want, strings.Join(seen, "\n"), errText())
				}
				seen = append(seen, l)
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no %q after %s:\n%s\nstderr:\n%s", want, d, strings.Join(seen, "\n"), errText())
			}
		}
	}
	wait("The federation is running", 90*time.Second)
	wait("Press Ctrl-C", 10*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	wait("Stopping...", 10*time.Second)
	go func() {
		for range lines {
		}
	}()
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("testnet exit: %v\nstderr:\n%s", waitErr, errText())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("testnet did not stop after SIGTERM")
	}
}

// freePorts returns a port P with P..P+n-1 free on 127.0.0.1 right now.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{l}
		ok := p+n <= 65535
		for i := 1; i < n && ok; i++ {
			li, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if ok = err == nil; ok {
				ls = append(ls, li)
			}
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port range")
	return 0
}
