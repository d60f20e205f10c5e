package fleet

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

var errRevoked = problem.New(http.StatusUnauthorized, "device_revoked", "revoked")

// rig is a fleet service over an in-memory store with one paired device
// ("good") on terminal t1, assigned to b1, who has one window.
func rig(t testing.TB, exe string) (*Service, *httptest.Server, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), Config{Store: dssync.MutexWrap(ds.NewMapDatastore()), Clock: clk, Executable: exe,
		Device: func(cred string) (string, string, error) {
			if cred != "good" {
				return "", "", errRevoked
			}
			return "d1", "t1", nil
		},
		Beneficiary: func(term string) (string, bool) { return "b1", term == "t1" },
		Windows: func(ben string, from, to time.Time) []Window {
			w := Window{Start: time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 29, 8, 15, 0, 0, time.UTC)}
			if w.End.After(from) && w.Start.Before(to) {
				return []Window{w}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	m := mux.NewRouter()
	s.Routes(httpx.NewRouter(m, nil, nil))
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return s, srv, clk
}

func do(t testing.TB, method, url, cred, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDeviceRoutes(t *testing.T) {
	s, srv, clk := rig(t, "")
	code, body := do(t, "GET", srv.URL+"/api/v1/terminal/windows", "good", "")
	if code != 200 || !strings.Contains(body, `"start":"2026-03-29T08:00:00Z"`) || !strings.Contains(body, `"terminal":"t1"`) {
		t.Fatalf("windows %d %s", code, body)
	}
	if code, body := do(t, "GET", srv.URL+"/api/v1/terminal/windows", "bad", ""); code != 401 || !strings.Contains(body, "device_revoked") {
		t.Fatalf("revoked windows %d %s", code, body)
	}
	hb := `{"at":"2026-03-29T06:00:00Z","alarm_at":"2026-03-29T07:50:00Z","rtc":true,"battery":{"percent":-1,"wear_percent":0},"disk":{"free_percent":5},"version":"v1"}`
	if code, body := do(t, "POST", srv.URL+"/api/v1/terminal/heartbeat", "good", hb); code != 204 {
		t.Fatalf("heartbeat %d %s", code, body)
	}
	for _, bad := range []string{`{"at":"2026-03-29T06:00:00Z","extra":1}`, `{"battery":{"percent":101}}`, `{"disk":{"free_percent":-3}}`} {
		if code, _ := do(t, "POST", srv.URL+"/api/v1/terminal/heartbeat", "good", bad); code/100 != 4 {
			t.Errorf("heartbeat %s: %d, want refused", bad, code)
		}
	}
	h := s.health("t1", "b1", true)
	if !h.Online || h.NextWake == nil || h.Battery == nil || len(h.Warnings) != 1 || h.Warnings[0] != "disk_full" {
		t.Fatalf("health %+v", h)
	}
	if known, on := s.SwitchedOn("b1", clk.Now().Add(-time.Minute)); !known || !on {
		t.Fatalf("switched on: %v %v", known, on)
	}
	clk.Advance(2 * time.Hour)
	if known, on := s.SwitchedOn("b1", clk.Now().Add(-30*time.Minute)); !known || on {
		t.Fatalf("two hours silent: known %v on %v", known, on)
	}
	if known, _ := s.SwitchedOn("b2", clk.Now()); known {
		t.Fatal("a person without an agent is known")
	}
	if h := s.health("t1", "b1", true); h.Online || h.NextWake != nil {
		t.Fatalf("silent terminal health %+v", h)
	}
}

func TestInstallKit(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "difronte")
	if err := os.WriteFile(exe, []byte("ELF-agent-bytes"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, srv, _ := rig(t, exe)
	code, script := do(t, "GET", srv.URL+"/terminal/install.sh", "", "")
	if code != 200 || !strings.Contains(script, "NODE='"+srv.URL+"'") {
		t.Fatalf("install.sh %d:\n%s", code, script)
	}
	if code, body := do(t, "GET", srv.URL+"/terminal/install/difronte", "", ""); code != 200 || body != "ELF-agent-bytes" {
		t.Fatalf("agent %d %q", code, body)
	}
	// On a 32-bit PC the script stops before downloading anything.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "uname"), []byte("#!/bin/sh\necho i686\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-s", "--", "--probe-code", "X")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil || !strings.Contains(stderr.String(), "non e' a 64 bit") || !strings.Contains(stderr.String(), "need a 64-bit x86 PC") {
		t.Fatalf("32-bit run: %v\n%s", err, stderr.String())
	}
	// A host that would break out of the script's quotes is refused.
	req, _ := http.NewRequest("GET", srv.URL+"/terminal/install.sh", nil)
	req.Host = "x'$(reboot)'"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("hostile host: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// FuzzHeartbeat: whatever a device posts, the node answers 204 or a 4xx,
// and a stored heartbeat is within bounds.
func FuzzHeartbeat(f *testing.F) {
	for _, s := range []string{
		`{"at":"2026-03-29T06:00:00Z","alarm_at":"2026-03-29T07:50:00Z","rtc":true,"battery":{"percent":80,"wear_percent":12.5},"disk":{"free_percent":50},"version":"v"}`,
		`{}`, `{"battery":{"percent":1e400}}`, `{"disk":{"free_percent":"x"}}`, `[`, `{"RTC":true,"rtc":false}`,
	} {
		f.Add(s)
	}
	s, srv, _ := rig(f, "")
	f.Fuzz(func(t *testing.T, body string) {
		code, _ := do(t, "POST", srv.URL+"/api/v1/terminal/heartbeat", "good", body)
		if code != 204 && code/100 != 4 {
			t.Fatalf("status %d for %q", code, body)
		}
		if hb, ok := s.beats.Get("t1"); ok && len(hb.check()) != 0 {
			t.Fatalf("stored an invalid heartbeat %+v", hb)
		}
	})
}
