package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the difronte built once for the tests that run real processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "difronte-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "difronte")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build difronte:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// loopback keeps a served node's federation on 127.0.0.1.
var loopback = []string{"--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0"}

// proc is a running `difronte serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	exited chan struct{}
}

// serve starts `difronte serve --data dir` with env added to the
// environment and waits until it prints its URL.
func serve(t *testing.T, dir string, env []string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--data", dir}, loopback...)
	cmd := exec.Command(binary, append(args, extra...)...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stdout.WriteString(line + "\n")
			p.mu.Unlock()
			if _, u, ok := strings.Cut(line, " serving on "); ok {
				select {
				case urlc <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	select {
	case p.url = <-urlc:
	case <-p.exited:
		t.Fatalf("difronte serve exited before serving:\n%s", p.output())
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("difronte serve not ready after 30 s:\n%s", p.output())
	}
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "stdout:\n" + p.stdout.String() + "stderr:\n" + p.stderr.String()
}

func (p *proc) stdoutText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// kill sends SIGKILL to the process (by its pid) and waits for it.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
}

// stop asks for a clean shutdown and waits for it.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.kill()
		p.t.Fatalf("difronte serve did not stop on SIGTERM:\n%s", p.output())
	}
	if !p.cmd.ProcessState.Success() {
		p.t.Fatalf("difronte serve exited with %v:\n%s", p.cmd.ProcessState, p.output())
	}
}

// cleanEnv is the test's environment without DIFRONTE_ variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIFRONTE_") {
			out = append(out, kv)
		}
	}
	return out
}

// run runs the binary to completion.
func runBin(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

// api is a small JSON client of a served node.
type api struct {
	t     *testing.T
	base  string
	token string
	c     *http.Client
}

func newAPI(t *testing.T, base string) *api {
	return &api{t: t, base: base, c: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}}
}

func (a *api) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

func (a *api) must(want int, method, path string, body, v any) {
	a.t.Helper()
	code, raw, err := a.call(method, path, body)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			a.t.Fatal(err)
		}
	}
}

func (a *api) login(user, pw string) {
	a.t.Helper()
	var out struct{ Token string }
	a.must(http.StatusOK, "POST", "/api/v1/login", map[string]string{"username": user, "password": pw}, &out)
	a.token = out.Token
}

func (a *api) close() { a.c.CloseIdleConnections() }

func beneficiaryBody(i int) map[string]any {
	return map[string]any{
		"name": fmt.Sprintf("Persona %d", i), "address": "Via Roma 1", "municipality": "080063",
		"contacts": []map[string]any{{"kind": "family", "name": "Figlia", "phone": "+39 333 1234567"}},
	}
}
