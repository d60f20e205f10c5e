// Command nodebench measures a coop node as an operator sees it: start-up
// time of `difronte serve`, resident memory idle and under load, and API
// latency of lists and reads with thousands of records, each next to a
// baseline measured in the same run (a trivial net/http handler answering
// the same bytes; badger's stock options against the node's tuned profile).
// It prints a Markdown report. `make bench` runs it.
//
// Usage: go run ./bench/nodebench -bin bin/difronte
//
// With -child it is instead a node process of its own (used for the badger
// profile comparison and for loading data through the services).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
)

const password = "password-del-benchmark"

func main() {
	var (
		bin      = flag.String("bin", "bin/difronte", "difronte binary to measure")
		runs     = flag.Int("runs", 5, "start-ups per measurement (median reported)")
		nBen     = flag.Int("beneficiaries", 5000, "beneficiaries to load")
		nOff     = flag.Int("offerings", 20000, "offerings to load")
		requests = flag.Int("requests", 2000, "requests per latency measurement")
		clients  = flag.Int("clients", 4, "concurrent clients")
		child    = flag.Bool("child", false, "run as a node process (internal)")
		data     = flag.String("data", "", "child: data directory")
		stock    = flag.Bool("stock", false, "child: badger stock options")
		fed      = flag.Bool("federation", false, "child: run the federation on loopback")
		loadOnly = flag.Bool("load", false, "child: load -beneficiaries and -offerings, then exit")
		latURL   = flag.String("latency-only", "", "only time the API routes of the node already serving at this URL (admin password "+password+"), against the fixed-bytes baseline")
	)
	flag.Parse()
	if *latURL != "" {
		b := &bench{nBen: *nBen, nOff: *nOff, requests: *requests, clients: *clients}
		if err := b.latencyOnly(*latURL); err != nil {
			fmt.Fprintln(os.Stderr, "nodebench:", err)
			os.Exit(1)
		}
		return
	}
	if *child {
		if err := runChild(*data, *stock, *fed, *loadOnly, *nBen, *nOff); err != nil {
			fmt.Fprintln(os.Stderr, "nodebench child:", err)
			os.Exit(1)
		}
		return
	}
	b := &bench{bin: *bin, runs: *runs, nBen: *nBen, nOff: *nOff, requests: *requests, clients: *clients}
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "nodebench:", err)
		os.Exit(1)
	}
}

// runChild is a node in this process: it loads data, or serves until
// SIGTERM, printing "serving on URL" like difronte serve.
func runChild(dir string, stock, fed, loadOnly bool, nBen, nOff int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The runtime settings of difronte serve (cmd/difronte/serve.go): a
	// soft memory limit of 192 MiB, and start-up garbage returned to the OS
	// once the background start-up work has settled. Without them the
	// child's heap shows garbage that serve does not keep.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
	cfg := node.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", AdminPassword: password, StockBadger: stock, NoFederation: !fed,
		P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, MembersAddr: "127.0.0.1:0"}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return err
	}
	defer n.Close()
	if loadOnly {
		return load(ctx, n, nBen, nOff)
	}
	go func() {
		select {
		case <-n.Settled():
			debug.FreeOSMemory()
		case <-ctx.Done():
		}
	}()
	fmt.Printf("Difronte node serving on %s\n", n.URL())
	select {
	case <-ctx.Done():
	case err = <-n.Done():
	}
	return err
}

// load writes records through the services (validation, synced store,
// audit) from several goroutines, as concurrent users would.
func load(ctx context.Context, n *node.Node, nBen, nOff int) error {
	admin := auth.Actor{Username: "admin", Role: auth.Admin, Remote: "bench"}
	bs, os := demo.Beneficiaries(1, nBen), demo.Offerings(2, nOff)
	const workers = 16
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(bs); i += workers {
				if _, err := n.Care().CreateBeneficiary(ctx, admin, bs[i]); err != nil {
					errc <- err
					return
				}
			}
			for i := w; i < len(os); i += workers {
				if _, err := n.Own().Import(ctx, admin, os[i]); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

type bench struct {
	bin               string
	runs              int
	nBen, nOff        int
	requests, clients int
	root              string
	rows              []string
	notes             []string
}

func (b *bench) row(format string, a ...any) {
	b.rows = append(b.rows, fmt.Sprintf(format, a...))
}

func (b *bench) run() error {
	var err error
	if b.bin, err = filepath.Abs(b.bin); err != nil {
		return err
	}
	if _, err := os.Stat(b.bin); err != nil {
		return fmt.Errorf("binary %s: %w (run make build)", b.bin, err)
	}
	b.root, err = os.MkdirTemp("", "nodebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.root)
	self, err := os.Executable()
	if err != nil {
		return err
	}

	// 1. Start-up of a fresh node (key, store, admin account, federation on loopback).
	var fresh []time.Duration
	var freshRSS []int
	for i := range b.runs {
		p, d, err := b.serve(filepath.Join(b.root, fmt.Sprintf("fresh-%d", i)))
		if err != nil {
			return err
		}
		fresh = append(fresh, d)
		if i == b.runs-1 {
			time.Sleep(2 * time.Second)
			freshRSS = append(freshRSS, rss(p.Process.Pid))
		}
		stopProc(p.Cmd)
	}

	// 2. Load data through the services in a child node (federation on, so
	// own offerings are in the signed log as in production).
	dataDir := filepath.Join(b.root, "loaded")
	t0 := time.Now()
	if err := runCmd(self, "-child", "-load", "-federation", "-data", dataDir, "-beneficiaries", strconv.Itoa(b.nBen), "-offerings", strconv.Itoa(b.nOff)); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	loadTime := time.Since(t0)

	// 3. Start-up with data.
	var loaded []time.Duration
	for range b.runs {
		p, d, err := b.serve(dataDir)
		if err != nil {
			return err
		}
		loaded = append(loaded, d)
		stopProc(p.Cmd)
	}

	// 4. Latency and memory of difronte serve with data.
	p, _, err := b.serve(dataDir)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	idleLoaded := rss(p.Process.Pid)
	heapLoaded := heapInuse(p.url)
	url := p.url
	nodeLat, sizes, err := b.latencies(url)
	if err != nil {
		stopProc(p.Cmd)
		return err
	}
	loadRSS, hwm := rss(p.Process.Pid), hwmOf(p.Process.Pid)
	stopProc(p.Cmd)

	// 5. Baseline: a trivial handler answering the same bytes on loopback.
	baseLat, err := b.baseline(sizes)
	if err != nil {
		return err
	}

	// 5b. Start-up with data without the federation (a child node): what
	// the federation's start costs on top.
	var noFed []time.Duration
	for range b.runs {
		t0 := time.Now()
		cp, err := startChild(self, dataDir, false)
		if err != nil {
			return err
		}
		noFed = append(noFed, time.Since(t0))
		stopProc(cp.Cmd)
	}

	// 6. Badger profiles: the same node without federation, tuned and stock.
	profiles := map[bool][3]int{}
	heaps := map[bool]int{}
	for _, stock := range []bool{false, true} {
		cp, err := startChild(self, dataDir, stock)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		idle := rss(cp.Process.Pid)
		heaps[stock] = heapInuse(cp.url)
		if _, _, err := b.latencies(cp.url); err != nil {
			stopProc(cp.Cmd)
			return err
		}
		profiles[stock] = [3]int{idle, rss(cp.Process.Pid), hwmOf(cp.Process.Pid)}
		stopProc(cp.Cmd)
	}

	// Report.
	fmt.Printf("## Coop node: start-up, memory, API latency\n\n")
	fmt.Printf("`go run ./bench/nodebench -bin %s` (%d start-ups each, %d beneficiaries + %d offerings, %d requests × %d clients per route).\n\n",
		filepath.Base(b.bin), b.runs, b.nBen, b.nOff, b.requests, b.clients)
	fmt.Printf("| Measure | Value | Baseline | Goal |\n|---|---|---|---|\n")
	fmt.Printf("| start-up to ready, fresh data dir (median) | %s | | < 1 s |\n", ms(median(fresh)))
	fmt.Printf("| start-up to ready, with data (median) | %s | | < 1 s |\n", ms(median(loaded)))
	fmt.Printf("| start-up to serving, with data, node without federation (median) | %s | | |\n", ms(median(noFed)))
	fmt.Printf("| idle RSS after start, fresh | %s | | < 60 MB |\n", mb(freshRSS[0]))
	fmt.Printf("| idle RSS after start, with data | %s | | < 60 MB |\n", mb(idleLoaded))
	fmt.Printf("| Go heap in use, idle with data (go_memstats_heap_inuse_bytes) | %s | | |\n", mb(heapLoaded))
	fmt.Printf("| RSS after the latency runs / peak (VmHWM) | %s / %s | | |\n", mb(loadRSS), mb(hwm))
	fmt.Printf("| load %d + %d records through the services | %s (%.0f records/s) | | |\n", b.nBen, b.nOff, loadTime.Round(time.Millisecond),
		float64(b.nBen+b.nOff)/loadTime.Seconds())
	for _, name := range routeOrder {
		n, base := nodeLat[name], baseLat[name]
		fmt.Printf("| %s p50 / p99 (%d B) | %s / %s | %s / %s (fixed bytes); p99 ratio %.1f× | p99 < 10 ms |\n", name, sizes[name],
			ms(n.p50), ms(n.p99), ms(base.p50), ms(base.p99), float64(n.p99)/float64(max(base.p99, 1)))
	}
	fmt.Printf("\nBadger profile (same data, node without federation, with the runtime settings of difronte serve; idle / after latency runs / peak):\n\n")
	fmt.Printf("| Profile | idle RSS | idle Go heap | RSS after reads | peak RSS |\n|---|---|---|---|---|\n")
	for _, stock := range []bool{false, true} {
		name := "tuned (node default)"
		if stock {
			name = "stock go-ds-badger options (baseline)"
		}
		v := profiles[stock]
		fmt.Printf("| %s | %s | %s | %s | %s |\n", name, mb(v[0]), mb(heaps[stock]), mb(v[1]), mb(v[2]))
	}
	fmt.Printf("\nFresh start-ups: %v\nWith data: %v\n", fresh, loaded)
	return nil
}

var routeOrder = []string{"GET /api/v1/beneficiaries?limit=50", "GET /api/v1/offerings?limit=50", "GET /api/v1/beneficiaries/{id}"}

type lat struct{ p50, p99 time.Duration }

type proc struct {
	*exec.Cmd
	url string
}

// serve starts difronte serve on dir and returns when /readyz answers,
// with the time since exec.
func (b *bench) serve(dir string) (*proc, time.Duration, error) {
	cmd := exec.Command(b.bin, "serve", "--data", dir, "--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DIFRONTE_ADMIN_PASSWORD="+password)
	t0 := time.Now()
	p, err := startServing(cmd)
	if err != nil {
		return nil, 0, err
	}
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		resp, err := c.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(t0), nil
			}
		}
	}
	stopProc(p.Cmd)
	return nil, 0, errors.New("node not ready after 30 s")
}

func startChild(self, dir string, stock bool) (*proc, error) {
	args := []string{"-child", "-data", dir}
	if stock {
		args = append(args, "-stock")
	}
	return startServing(exec.Command(self, args...))
}

// startServing starts cmd and waits for its "serving on URL" line.
func startServing(cmd *exec.Cmd) (*proc, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), " serving on "); ok {
				urlc <- u
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-urlc:
		return &proc{Cmd: cmd, url: u}, nil
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, errors.New("process did not start serving")
	}
}

func stopProc(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// latencies logs in and times the three routes; it returns the p50/p99 of
// each and the size of each answer.
func (b *bench) latencies(url string) (map[string]lat, map[string]int, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.clients}}
	defer c.CloseIdleConnections()
	raw, _ := json.Marshal(map[string]string{"username": "admin", "password": password})
	resp, err := c.Post(url+"/api/v1/login", "application/json", bytes.NewReader(raw))
	if err != nil {
		return nil, nil, err
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		return nil, nil, fmt.Errorf("login failed: %s", resp.Status)
	}
	get := func(path string) ([]byte, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return body, err
	}
	body, err := get("/api/v1/beneficiaries?limit=500")
	if err != nil {
		return nil, nil, err
	}
	var page struct{ Items []struct{ ID string } }
	json.Unmarshal(body, &page)
	if len(page.Items) == 0 {
		return nil, nil, errors.New("no beneficiaries loaded")
	}
	paths := map[string]func(i int) string{
		routeOrder[0]: func(i int) string {
			return fmt.Sprintf("/api/v1/beneficiaries?limit=50&offset=%d", (i*50)%max(1, b.nBen-50))
		},
		routeOrder[1]: func(i int) string {
			return fmt.Sprintf("/api/v1/offerings?limit=50&offset=%d", (i*50)%max(1, b.nOff-50))
		},
		routeOrder[2]: func(i int) string { return "/api/v1/beneficiaries/" + page.Items[i%len(page.Items)].ID },
	}
	out, sizes := map[string]lat{}, map[string]int{}
	for _, name := range routeOrder {
		body, err := get(paths[name](0))
		if err != nil {
			return nil, nil, err
		}
		sizes[name] = len(body)
		l, err := measure(b.clients, b.requests, func(i int) error { _, err := get(paths[name](i)); return err })
		if err != nil {
			return nil, nil, err
		}
		out[name] = l
	}
	return out, sizes, nil
}

// latencyOnly times the routes of a running node and the baseline, and
// prints both: the quick loop for working on the API's latency.
func (b *bench) latencyOnly(url string) error {
	nodeLat, sizes, err := b.latencies(url)
	if err != nil {
		return err
	}
	baseLat, err := b.baseline(sizes)
	if err != nil {
		return err
	}
	for _, name := range routeOrder {
		n, base := nodeLat[name], baseLat[name]
		fmt.Printf("%s (%d B): p50 %s p99 %s; baseline p50 %s p99 %s\n", name, sizes[name], ms(n.p50), ms(n.p99), ms(base.p50), ms(base.p99))
	}
	return nil
}

// baseline serves fixed bodies of the same sizes from a plain handler.
func (b *bench) baseline(sizes map[string]int) (map[string]lat, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for i, name := range routeOrder {
		body := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), max(0, sizes[name]-9))...)
		body = append(body, "\"}\n"...)
		mux.HandleFunc(fmt.Sprintf("/r%d", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.clients}}
	defer c.CloseIdleConnections()
	out := map[string]lat{}
	for i, name := range routeOrder {
		u := fmt.Sprintf("http://%s/r%d", ln.Addr(), i)
		l, err := measure(b.clients, b.requests, func(int) error {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		})
		if err != nil {
			return nil, err
		}
		out[name] = l
	}
	return out, nil
}

// measure runs n requests from k clients after a short warm-up and returns
// the median and 99th percentile.
func measure(k, n int, do func(i int) error) (lat, error) {
	for i := range min(n/10, 100) {
		if err := do(i); err != nil {
			return lat{}, err
		}
	}
	var mu sync.Mutex
	var ds []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	per := n / k
	for c := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, per)
			for i := range per {
				t0 := time.Now()
				if err := do(c*per + i); err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			ds = append(ds, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return lat{}, firstErr
	}
	slices.Sort(ds)
	return lat{p50: ds[len(ds)/2], p99: ds[len(ds)*99/100]}, nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// heapInuse reads the node's Go heap in use (KiB) from its /metrics: the
// part of RSS that is Go objects rather than badger's tables and caches.
func heapInuse(url string) int {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return int(f / 1024)
		}
	}
	return -1
}

// rss reads VmRSS (KiB) of pid.
func rss(pid int) int { return statusKB(pid, "VmRSS:") }

// hwmOf reads VmHWM, the peak resident size (KiB) of pid.
func hwmOf(pid int) int { return statusKB(pid, "VmHWM:") }

func statusKB(pid int, field string) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
func mb(kb int) string          { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
