package main

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestProfilerLoopbackOnly: DIFRONTE_PPROF serves the profiles on a
// loopback address and refuses any other, since they show the heap.
func TestProfilerLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", "192.168.1.10:6060", ":6060", "localhost", "nonsense"} {
		t.Setenv("DIFRONTE_PPROF", addr)
		if err := startProfiler(io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("DIFRONTE_PPROF=%s: %v, want a usage error", addr, err)
		}
	}
	t.Setenv("DIFRONTE_PPROF", "127.0.0.1:0")
	var out strings.Builder
	if err := startProfiler(&out); err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(out.String(), "profiles on "))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
}
