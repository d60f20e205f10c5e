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
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
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

type bench struct {
	bin               string
	runs              int
	nBen, nOff        int
	requests, clients int
	root              string
	rows              []string
	notes             []string
}

// results are the figures of one run, reported together at the end.
type results struct {
	fresh, loaded, noFed []time.Duration // start-up times
	freshRSS             int             // idle RSS after the last fresh start-up
	loadTime             time.Duration
	idleLoaded           int // idle RSS, with data
	heapLoaded           int // idle Go heap, with data
	loadRSS, hwm         int // RSS after the latency runs, and its peak
	nodeLat, baseLat     map[string]lat
	sizes                map[string]int  // answer size of each route
	profiles             map[bool][3]int // by stock: idle RSS, RSS after reads, peak RSS
	heaps                map[bool]int    // by stock: idle Go heap
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
	var r results
	dataDir := filepath.Join(b.root, "loaded")
	steps := []func() error{
		func() error { return b.freshStartups(&r) },
		func() error { return b.loadData(&r, self, dataDir) },
		func() error { return b.loadedStartups(&r, dataDir) },
		func() error { return b.servedWithData(&r, dataDir) },
		func() (err error) { r.baseLat, err = b.baseline(r.sizes); return err },
		func() error { return b.noFederation(&r, self, dataDir) },
		func() error { return b.badgerProfiles(&r, self, dataDir) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	b.report(&r)
	return nil
}

// freshStartups times the start-up of a fresh node (key, store, admin
// account, federation on loopback).
func (b *bench) freshStartups(r *results) error {
	for i := range b.runs {
		p, d, err := b.serve(filepath.Join(b.root, fmt.Sprintf("fresh-%d", i)))
		if err != nil {
			return err
		}
		r.fresh = append(r.fresh, d)
		if i == b.runs-1 {
			time.Sleep(2 * time.Second)
			r.freshRSS = rss(p.Process.Pid)
		}
		stopProc(p.Cmd)
	}
	return nil
}

// loadData loads data through the services in a child node (federation
// on, so own offerings are in the signed log as in production).
func (b *bench) loadData(r *results, self, dataDir string) error {
	t0 := time.Now()
	if err := runCmd(self, "-child", "-load", "-federation", "-data", dataDir, "-beneficiaries", strconv.Itoa(b.nBen), "-offerings", strconv.Itoa(b.nOff)); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.loadTime = time.Since(t0)
	return nil
}

// loadedStartups times start-ups with data.
func (b *bench) loadedStartups(r *results, dataDir string) error {
	for range b.runs {
		p, d, err := b.serve(dataDir)
		if err != nil {
			return err
		}
		r.loaded = append(r.loaded, d)
		stopProc(p.Cmd)
	}
	return nil
}

// servedWithData measures latency and memory of difronte serve with data.
func (b *bench) servedWithData(r *results, dataDir string) error {
	p, _, err := b.serve(dataDir)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	r.idleLoaded = rss(p.Process.Pid)
	r.heapLoaded = heapInuse(p.url)
	r.nodeLat, r.sizes, err = b.latencies(p.url)
	if err != nil {
		stopProc(p.Cmd)
		return err
	}
	r.loadRSS, r.hwm = rss(p.Process.Pid), hwmOf(p.Process.Pid)
	stopProc(p.Cmd)
	return nil
}

// noFederation times start-ups with data of a child node without the
// federation: what the federation's start costs on top.
func (b *bench) noFederation(r *results, self, dataDir string) error {
	for range b.runs {
		t0 := time.Now()
		cp, err := startChild(self, dataDir, false)
		if err != nil {
			return err
		}
		r.noFed = append(r.noFed, time.Since(t0))
		stopProc(cp.Cmd)
	}
	return nil
}

// badgerProfiles measures the same node without federation, with badger
// tuned and stock.
func (b *bench) badgerProfiles(r *results, self, dataDir string) error {
	r.profiles, r.heaps = map[bool][3]int{}, map[bool]int{}
	for _, stock := range []bool{false, true} {
		cp, err := startChild(self, dataDir, stock)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		idle := rss(cp.Process.Pid)
		r.heaps[stock] = heapInuse(cp.url)
		if _, _, err := b.latencies(cp.url); err != nil {
			stopProc(cp.Cmd)
			return err
		}
		r.profiles[stock] = [3]int{idle, rss(cp.Process.Pid), hwmOf(cp.Process.Pid)}
		stopProc(cp.Cmd)
	}
	return nil
}

// report prints the Markdown report.
func (b *bench) report(r *results) {
	fmt.Printf("## Coop node: start-up, memory, API latency\n\n")
	fmt.Printf("`go run ./bench/nodebench -bin %s` (%d start-ups each, %d beneficiaries + %d offerings, %d requests × %d clients per route).\n\n",
		filepath.Base(b.bin), b.runs, b.nBen, b.nOff, b.requests, b.clients)
	fmt.Printf("| Measure | Value | Baseline | Goal |\n|---|---|---|---|\n")
	fmt.Printf("| start-up to ready, fresh data dir (median) | %s | | < 1 s |\n", ms(median(r.fresh)))
	fmt.Printf("| start-up to ready, with data (median) | %s | | < 1 s |\n", ms(median(r.loaded)))
	fmt.Printf("| start-up to serving, with data, node without federation (median) | %s | | |\n", ms(median(r.noFed)))
	fmt.Printf("| idle RSS after start, fresh | %s | | < 60 MB |\n", mb(r.freshRSS))
	fmt.Printf("| idle RSS after start, with data | %s | | < 60 MB |\n", mb(r.idleLoaded))
	fmt.Printf("| Go heap in use, idle with data (go_memstats_heap_inuse_bytes) | %s | | |\n", mb(r.heapLoaded))
	fmt.Printf("| RSS after the latency runs / peak (VmHWM) | %s / %s | | |\n", mb(r.loadRSS), mb(r.hwm))
	fmt.Printf("| load %d + %d records through the services | %s (%.0f records/s) | | |\n", b.nBen, b.nOff, r.loadTime.Round(time.Millisecond),
		float64(b.nBen+b.nOff)/r.loadTime.Seconds())
	for _, name := range routeOrder {
		n, base := r.nodeLat[name], r.baseLat[name]
		fmt.Printf("| %s p50 / p99 (%d B) | %s / %s | %s / %s (fixed bytes); p99 ratio %.1f× | p99 < 10 ms |\n", name, r.sizes[name],
			ms(n.p50), ms(n.p99), ms(base.p50), ms(base.p99), float64(n.p99)/float64(max(base.p99, 1)))
	}
	fmt.Printf("\nBadger profile (same data, node without federation, with the runtime settings of difronte serve; idle / after latency runs / peak):\n\n")
	fmt.Printf("| Profile | idle RSS | idle Go heap | RSS after reads | peak RSS |\n|---|---|---|---|---|\n")
	for _, stock := range []bool{false, true} {
		name := "tuned (node default)"
		if stock {
			name = "stock go-ds-badger options (baseline)"
		}
		v := r.profiles[stock]
		fmt.Printf("| %s | %s | %s | %s | %s |\n", name, mb(v[0]), mb(r.heaps[stock]), mb(v[1]), mb(v[2]))
	}
	fmt.Printf("\nFresh start-ups: %v\nWith data: %v\n", r.fresh, r.loaded)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
func mb(kb int) string          { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
