package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/difronte/difronte/testnet/poll"
)

// TestKillNineKeepsAcknowledgedWrites writes through the API from several
// clients, SIGKILLs the process while writes are in flight, restarts it on
// the same data directory and checks that every write answered 201 is
// there. It repeats with different kill points. (kill -9 does not drop the
// page cache, so this proves the write order and recovery, not fsync.)
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"DIFRONTE_ADMIN_PASSWORD=password-crash-test"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[string]string{} // id -> kind
	for round := range 4 {
		p := serve(t, dir, env)
		a := newAPI(t, p.url)
		a.login("admin", "password-crash-test")
		killAfter := 5 + rng.IntN(60) // acknowledged writes before the kill
		var (
			mu    sync.Mutex
			count atomic.Int64
			wg    sync.WaitGroup
			stop  = make(chan struct{})
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10_000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					kind, path, body := "beneficiary", "/api/v1/beneficiaries", any(beneficiaryBody(i))
					if (i+w)%3 == 1 {
						kind, path, body = "caregiver", "/api/v1/caregivers", map[string]any{"name": fmt.Sprintf("Caregiver %d-%d", w, i)}
					}
					code, raw, err := a.call("POST", path, body)
					if err != nil {
						return // the process died mid-request: not acknowledged
					}
					if code != http.StatusCreated {
						t.Errorf("round %d: write answered %d: %s", round, code, raw)
						return
					}
					var out struct{ ID string }
					if json.Unmarshal(raw, &out) != nil || out.ID == "" {
						t.Errorf("round %d: 201 without an id: %s", round, raw)
						return
					}
					mu.Lock()
					acked[out.ID] = kind
					mu.Unlock()
					count.Add(1)
				}
			}()
		}
		poll.Wait(20*time.Second, time.Millisecond, func() bool { return count.Load() >= int64(killAfter) || t.Failed() })
		p.kill() // SIGKILL with writes in flight
		close(stop)
		wg.Wait()
		a.close()
		if t.Failed() {
			return
		}
		t.Logf("round %d: killed after %d acknowledged writes (%d in total)", round, count.Load(), len(acked))
	}

	// Restart: the store opens and every acknowledged write is there.
	p := serve(t, dir, env)
	defer p.stop()
	a := newAPI(t, p.url)
	defer a.close()
	a.login("admin", "password-crash-test")
	have := map[string]bool{}
	for _, path := range []string{"/api/v1/beneficiaries", "/api/v1/caregivers"} {
		for off := 0; ; off += 500 {
			var page struct {
				Total int
				Items []struct{ ID string }
			}
			a.must(http.StatusOK, "GET", fmt.Sprintf("%s?limit=500&offset=%d", path, off), nil, &page)
			for _, it := range page.Items {
				have[it.ID] = true
			}
			if off+500 >= page.Total {
				break
			}
		}
	}
	missing := 0
	for id, kind := range acked {
		if !have[id] {
			missing++
			t.Errorf("acknowledged %s %s lost", kind, id)
		}
	}
	if missing == 0 && len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged: the test proved little", len(acked))
	}
	// Every acknowledged change is also in the audit log, and the chain holds.
	var v struct {
		OK      bool
		Checked int
	}
	a.must(http.StatusOK, "GET", "/api/v1/audit/verify", nil, &v)
	if !v.OK || v.Checked < len(acked) {
		t.Fatalf("audit after crashes: %+v for %d acknowledged writes", v, len(acked))
	}
}
