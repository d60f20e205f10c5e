// Command catalogue measures a whole coop node holding a federated catalogue
// of 100,000 offerings from 300 publishers: the time from start to a
// searchable index, the node's RSS (steady and peak), and the latency, size
// and GC cost of the catalogue search over HTTP with the node's result
// cache defeated (load.go), with 8 clients and with one, alternating with
// the same load on PostgreSQL full-text search over the same offerings
// (pg.go; -postgres=false to skip it); then the time and peak RSS of
// `difronte reindex`. The catalogue is written straight into a
// fresh node's replica as signed entries, as catch-up would leave it.
//
//	go run ./bench/catalogue -bin bin/difronte
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

func main() {
	bin := flag.String("bin", "bin/difronte", "difronte binary")
	n := flag.Int("offerings", 100_000, "offerings in the catalogue")
	pubs := flag.Int("publishers", 300, "publishers")
	queries := flag.Int("queries", 250, "HTTP searches per client and query kind")
	clients := flag.Int("clients", 8, "concurrent closed-loop clients")
	data := flag.String("data", "", "keep the seeded data directory here and reuse it in later runs (default: a temporary one)")
	url := flag.String("url", "", "only run the query load against the node already serving at this URL (with -pid, its process)")
	pid := flag.Int("pid", 0, "the process of the node at -url, for its CPU time")
	flag.StringVar(&onlyKinds, "only", "", "with -url: run only the query kinds whose name contains this")
	postgres := flag.Bool("postgres", true, "also run the same load on PostgreSQL full-text search over the same offerings, alternating with the node")
	pairs := flag.Int("pairs", 2, "node and PostgreSQL runs to alternate (at least 1)")
	pgLimit := flag.Duration("pg-limit", 40*time.Second, "longest PostgreSQL run of one query kind: its clients stop before -queries when it has passed")
	cpuProfile := flag.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	floor := flag.Bool("floor", true, "after the node, run the same loads against the machine's floor (floor.go)")
	serveAddr := flag.String("serve-floor", "", "serve the floor on this address instead of benchmarking (what -floor starts)")
	floorAnswer := flag.String("floor-answer", "", "with -serve-floor: the file every answer sends")
	floorWork := flag.Duration("floor-work", 0, "with -serve-floor: the CPU time spent on each answer")
	flag.Parse()
	if *serveAddr != "" {
		err := serveFloor(*serveAddr, *floorAnswer, *floorWork)
		fmt.Fprintln(os.Stderr, "catalogue bench: floor:", err)
		os.Exit(1)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "catalogue bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *url != "" {
		if _, err := printLoad(*url, *pid, *clients, *queries); err != nil {
			fmt.Fprintln(os.Stderr, "catalogue bench:", err)
			os.Exit(1)
		}
		return
	}
	if onlyKinds != "" {
		fmt.Fprintln(os.Stderr, "catalogue bench: -only needs -url (a whole run measures every kind)")
		os.Exit(2)
	}
	var pg *pgCompare
	if *postgres {
		pg = &pgCompare{clients: *clients, queries: *queries, pairs: max(*pairs, 1), limit: *pgLimit}
	}
	if err := run(*bin, *data, *n, *pubs, *clients, *queries, pg, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "catalogue bench:", err)
		os.Exit(1)
	}
}

// run seeds (or reuses) the data, starts the node and measures it, then,
// with pg, the same load on PostgreSQL beside it, and with floor the same
// load on the machine's floor.
func run(bin, dir string, n, pubs, clients, queries int, pg *pgCompare, floor bool) error {
	fmt.Printf("# Whole node with a %d-offering catalogue from %d publishers\n\n", n, pubs)
	baseline := machineBusy() // what else the machine runs: 0 quiet, about 1 beside bench/catalogue.sh loaded's burners
	if _, err := os.Stat(filepath.Join(dir, node.KeyFile)); dir == "" || err != nil {
		if dir == "" {
			tmp, err := os.MkdirTemp("", "difronte-catalogue-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		start := time.Now()
		if err := seed(dir, n, pubs); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Printf("seeded the replica with %d signed entries in %s\n\n", n+pubs, time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Printf("reusing the seeded data directory (index snapshot included, if the node wrote one)\n\n")
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "serve", "--data", dir, "--http", "127.0.0.1:"+strconv.Itoa(port),
		"--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DIFRONTE_ADMIN_PASSWORD=catalogue-bench-pw")
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	c := &http.Client{Timeout: 10 * time.Second}
	ready, err := waitFor(func() bool {
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("node not ready: %w", err)
	}
	readyAt := ready.Sub(t0)
	indexed, err := waitFor(func() bool { return total(c, base+"/api/v1/catalogue/search") == n }, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("index never reached %d offerings (has %d): %w", n, total(c, base+"/api/v1/catalogue/search"), err)
	}
	steady := rss(cmd.Process.Pid)
	settled, err := waitFor(func() bool { return idle(cmd.Process.Pid) }, time.Minute)
	if err != nil {
		return fmt.Errorf("node busy a minute after indexing: %w", err)
	}

	fmt.Printf("| measure | value |\n|---|---|\n")
	fmt.Printf("| start to ready (HTTP answers) | %s |\n", readyAt.Round(time.Millisecond))
	fmt.Printf("| start to all %d offerings searchable | %s |\n", n, indexed.Sub(t0).Round(time.Millisecond))
	fmt.Printf("| start to settled (node CPU under 5%% for a second; the load starts here) | %s |\n", settled.Sub(t0).Round(time.Millisecond))
	fmt.Printf("| RSS once indexed | %.1f MB |\n", float64(steady)/1024)
	pid := cmd.Process.Pid
	peaks := []peak{{"once settled after indexing", status(pid, "VmHWM:")}}
	first, err := printLoad(base, pid, clients, queries)
	if err != nil {
		return err
	}
	peaks = append(peaks, peak{"after the first eight-client run", status(pid, "VmHWM:")})
	if pg != nil {
		pg.base, pg.pid = base, pid
		if err := pg.run(n, pubs, first); err != nil {
			return err
		}
		peaks = append(peaks, peak{"after the pairs with PostgreSQL", status(pid, "VmHWM:")})
	}
	// One client gives as many answers per kind as the eight: with only
	// -queries of them, its p99 would be its maximum. It starts once the
	// node is idle again after PostgreSQL's runs, and the machine is back
	// to what it ran before the benchmark: PostgreSQL's shutdown, and this
	// process's own collection of the runs' garbage, took a core from the
	// node for the first seconds of the pass.
	fmt.Printf("\n## One client\n")
	debug.FreeOSMemory()
	if _, err := waitFor(func() bool { return idle(pid) && machineBusy() < baseline+0.1 }, time.Minute); err != nil {
		fmt.Printf("\n(the machine stayed busier than at the start of the benchmark for a minute: %.0f%% of its CPUs against %.0f%%)\n", 100*machineBusy(), 100*baseline)
	}
	one, err := printLoad(base, pid, 1, clients*queries)
	if err != nil {
		return err
	}
	peaks = append(peaks, peak{"after the one-client run", status(pid, "VmHWM:")})
	var floorBody []byte // the floor's answer, taken while the node serves
	if floor {
		if floorBody, err = floorAnswer(base); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
	}
	fmt.Printf("\n| memory | value |\n|---|---|\n")
	fmt.Printf("| RSS after the queries | %.1f MB |\n", float64(rss(pid))/1024)
	for _, p := range peaks {
		fmt.Printf("| peak RSS (VmHWM) since start, %s | %.1f MB |\n", p.when, float64(p.kb)/1024)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if err := reindex(bin, dir); err != nil {
		return err
	}
	if floor {
		return floorRun(floorBody, first, one, clients, queries, baseline)
	}
	return nil
}

// reindex runs `difronte reindex` on the stopped node's data and prints
// its time and peak RSS.
//
// The peak is the child's maxrss from wait4, which on Linux is never below
// this process's own peak RSS: os/exec starts the child with vfork
// semantics, and exec folds the high-water mark of the address space the
// child leaves, this process's, into the child's maxrss (golang/go#32054).
// Seeding 100,000 offerings takes this process to 500-560 MB, which is
// what this figure used to show instead of the reindex's own peak. So this
// process first gives its free memory back and resets its high-water mark
// to its RSS, which it prints: the floor under the reindex figure.
func reindex(bin, dir string) error {
	own, floor, err := resetPeakRSS()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	cmd := exec.Command(bin, "reindex", "--data", dir)
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	peak := 0
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = int(ru.Maxrss)
	}
	fmt.Printf("| difronte reindex | %s |\n", strings.TrimSpace(string(out)))
	fmt.Printf("| difronte reindex peak RSS | %.1f MB |\n", float64(peak)/1024)
	fmt.Printf("| this benchmark's own peak RSS / RSS when it starts the reindex (the floor of the figure above) | %.1f / %.1f MB |\n", float64(own)/1024, float64(floor)/1024)
	return nil
}

// resetPeakRSS returns this process's free memory to the system and resets
// its high-water mark (VmHWM) to its RSS. It returns the mark before and
// after, in KiB.
func resetPeakRSS() (before, after int, err error) {
	before = status(os.Getpid(), "VmHWM:")
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, 0, fmt.Errorf("reset peak RSS: %w", err)
	}
	return before, status(os.Getpid(), "VmHWM:"), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// seed writes the node key and n offerings of pubs publishers (and their
// coop profiles) into the replica of a fresh data directory.
func seed(dir string, n, pubs int) error {
	ctx := context.Background()
	if _, _, err := node.LoadOrCreateKey(filepath.Join(dir, node.KeyFile)); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := replica.Open(ctx, st.Namespace("/fed"))
	if err != nil {
		return err
	}
	keys := make([]ed25519.PrivateKey, pubs)
	seqs := make([]uint64, pubs)
	var batch []*schema.Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := rep.ApplyBatch(ctx, batch)
		batch = batch[:0]
		return err
	}
	add := func(p int, kind schema.Kind, key string, body []byte) error {
		seqs[p]++
		e := &schema.Entry{Seq: seqs[p], Kind: kind, Key: key, Body: body, IssuedAt: time.Now()}
		if err := e.Sign(keys[p]); err != nil {
			return err
		}
		batch = append(batch, e)
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	}
	for p := range keys {
		_, keys[p], _ = ed25519.GenerateKey(nil)
		prof := schema.CoopProfile{Name: "Cooperativa " + strconv.Itoa(p), Kind: schema.KindSocialCoop,
			Territory: []string{"015146"}, Contact: schema.CoopContact{Email: "info@coop" + strconv.Itoa(p) + ".example.org"}}
		body, _ := json.Marshal(prof)
		if err := add(p, schema.KindCoop, "profile", body); err != nil {
			return err
		}
	}
	for i, o := range demo.Offerings(42, n) {
		body, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if err := add(i%pubs, schema.KindOffering, o.ID, body); err != nil {
			return err
		}
	}
	return flush()
}

func total(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var out struct{ Total int }
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return -1
	}
	return out.Total
}

func waitFor(cond func() bool, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return time.Now(), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("timed out after %s", limit)
}

// idle reports whether process pid used under 5% of a CPU over the
// next second. A node that has just indexed a bulk load goes on writing
// (its index snapshot, the store's compactions) for a few seconds; the
// query load starts once that is done, as it would on a node between
// bulk loads, so the first pair of runs measures searches, not that.
func idle(pid int) bool {
	c0 := cpuTime(pid)
	time.Sleep(time.Second)
	return cpuTime(pid)-c0 < 50*time.Millisecond
}

// peak is the node's VmHWM, in kB, at a point of the run.
type peak struct {
	when string
	kb   int
}

// machineBusy is the share of the machine's CPUs busy over the next
// second, from /proc/stat (0 when it cannot be read).
func machineBusy() float64 {
	b0, t0 := cpuStat()
	time.Sleep(time.Second)
	b1, t1 := cpuStat()
	if t1 <= t0 {
		return 0
	}
	return float64(b1-b0) / float64(t1-t0)
}

// cpuStat returns the busy and total jiffies of all CPUs since boot.
func cpuStat() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		if i >= 8 { // guest and guest_nice: already in user and nice
			break
		}
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func rss(pid int) int { return status(pid, "VmRSS:") }

func status(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}
