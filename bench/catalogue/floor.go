package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// The floor is what the machine gives any server as it is loaded: an HTTP
// server that answers every search with the same body, a real answer of
// the node, after as much CPU time as the node spent on an answer. The
// same load runs against it as against the node, so its p99 is what the
// scheduler and the network stack add to that much work, and the node's
// p99 beside it says how much of the node's is its own (issue 18: under
// two busy loops on two cores, an empty server's p99 already passes
// 10 ms on some kinds, and its one-client p99 is a kernel tick).

// serveFloor serves the floor on addr until the process is stopped: every
// request to the search route is answered with body after work of CPU time.
func serveFloor(addr, bodyFile string, work time.Duration) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return http.Serve(ln, floorHandler(body, work))
}

// floorHandler answers the search route with body after work of CPU time.
func floorHandler(body []byte, work time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/catalogue/search", func(w http.ResponseWriter, r *http.Request) {
		spend(work)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	return mux
}

// sink keeps spend's hashing from being optimised away.
var sink [32]byte

// spend uses d of its thread's CPU time, hashing: CPU time, not wall
// time, so that the work is the same however often the thread is
// preempted, as a search's is.
func spend(d time.Duration) {
	if d <= 0 {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var block [256]byte
	start := threadCPU()
	for threadCPU()-start < d {
		for range 8 {
			sink = sha256.Sum256(block[:])
			copy(block[:], sink[:])
		}
	}
}

// threadCPU is the CPU time of the calling thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// floorAnswer fetches the body every floor answer sends: the node's first
// page of "assistenza domiciliare", one of its largest. The node at base
// must still serve.
func floorAnswer(base string) ([]byte, error) {
	resp, err := http.Get(base + "/api/v1/catalogue/search?q=assistenza+domiciliare")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("floor answer: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// floorRun measures the floor under the load the node got: it starts the
// floor with body and the node's median CPU time per answer in eight
// (less the floor's own HTTP cost), runs the eight-client and one-client
// loads against it and prints both beside the node's (eight and one). The
// one-client pass waits, as the node's does, for the machine to be no
// busier than baseline.
func floorRun(body []byte, eight, one []load, clients, queries int, baseline float64) error {
	f, err := os.CreateTemp("", "difronte-floor-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	work := max(0, medianCPU(eight)-floorOwnCPU)
	port, err := freePort()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(self, "-serve-floor", addr, "-floor-answer", f.Name(), "-floor-work", work.String())
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	fbase := "http://" + addr
	if _, err := waitFor(func() bool { return total(http.DefaultClient, fbase+"/api/v1/catalogue/search") > 0 }, 10*time.Second); err != nil {
		return fmt.Errorf("floor server: %w", err)
	}
	fmt.Printf("\n## The machine's floor\n\nThe same loads against a server that answers every search with the node's first page of \"assistenza domiciliare\" (%.1f KB) after %.2f ms of CPU time (the node's median CPU per answer with eight clients, less %.2f ms for the floor's own HTTP), under the same load of the machine.\n", float64(len(body))/1000, ms(work), ms(floorOwnCPU))
	pid := cmd.Process.Pid
	fe, err := kindLoads(fbase, pid, clients, queries, nil)
	if err != nil {
		return err
	}
	waitFor(func() bool { return machineBusy() < baseline+0.1 }, time.Minute) // as before the node's one-client pass
	fo, err := kindLoads(fbase, pid, 1, clients*queries, nil)
	if err != nil {
		return err
	}
	fmt.Printf("\n| query kind | floor CPU per answer | 8 clients: floor p50 / p99 | node p99 | node ÷ floor at p99 | 1 client: floor p99 ÷ p50 | node p99 ÷ p50 |\n|---|---|---|---|---|---|---|\n")
	for i, k := range kinds() {
		if i >= len(fe) || i >= len(eight) || i >= len(fo) || i >= len(one) {
			break
		}
		fmt.Printf("| %s | %.2f ms | %.2f / %.2f ms | %.2f ms | %.2f× | %.1f× (%.2f / %.2f ms) | %.1f× |\n", k.name,
			ms(fe[i].cpu)/float64(fe[i].answers), ms(fe[i].p50), ms(fe[i].p99), ms(eight[i].p99), ratio(eight[i].p99, fe[i].p99),
			ratio(fo[i].p99, fo[i].p50), ms(fo[i].p99), ms(fo[i].p50), ratio(one[i].p99, one[i].p50))
	}
	return nil
}

// floorOwnCPU is about what the floor spends on an answer besides its
// work: reading the request and writing 10 KB (0.03-0.07 ms measured on
// the reference machine, issue 18).
const floorOwnCPU = 50 * time.Microsecond

// medianCPU is the median CPU time per answer of loads.
func medianCPU(loads []load) time.Duration {
	var per []time.Duration
	for _, l := range loads {
		if l.answers > 0 {
			per = append(per, l.cpu/time.Duration(l.answers))
		}
	}
	if len(per) == 0 {
		return 0
	}
	slices.Sort(per)
	return per[len(per)/2]
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
