package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time (user + system) of this process.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFloorSpendsItsWork checks that the floor answers with the node's
// body after at least its work of CPU time, and without it when the work
// is zero: its figures stand for a server that does as much as the node.
func TestFloorSpendsItsWork(t *testing.T) {
	body := []byte(`{"total":18577,"results":[]}`)
	for _, work := range []time.Duration{0, 30 * time.Millisecond} {
		srv := httptest.NewServer(floorHandler(body, work))
		cpu0, t0 := processCPU(t), time.Now()
		const n = 5
		for range n {
			resp, err := http.Get(srv.URL + "/api/v1/catalogue/search?q=anziani")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(got) != string(body) {
				t.Fatalf("work %v: answer %d %q, %v", work, resp.StatusCode, got, err)
			}
		}
		cpu, wall := processCPU(t)-cpu0, time.Since(t0)
		srv.Close()
		if cpu < n*work {
			t.Errorf("work %v: %d answers took %v of CPU, want at least %v", work, n, cpu, n*work)
		}
		if work == 0 && wall > 100*time.Millisecond {
			t.Errorf("no work: %d answers took %v", n, wall)
		}
		t.Logf("work %v: %d answers, %v of CPU in %v", work, n, cpu, wall)
	}
}
