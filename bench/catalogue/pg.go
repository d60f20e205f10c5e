package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/difronte/difronte/bench/pgbench"
	"github.com/difronte/difronte/cmd/difronte/demo"
)

// pgCompare is the PostgreSQL side of the HTTP benchmark: the same
// offerings in a portal's table, the same query kinds with the same texts
// (stop words included), the same closed-loop clients.
type pgCompare struct {
	base             string // the node, for its totals
	pid              int    // the node's process
	clients, queries int
	pairs            int
	limit            time.Duration // per kind and PostgreSQL run
}

// run starts PostgreSQL, loads the offerings, and alternates PostgreSQL
// and node runs (first is the node's first run, already done), then
// prints the medians. The server is stopped whatever happens.
func (p *pgCompare) run(n, pubs int, first []load) (err error) {
	fmt.Printf("\n## The same load on PostgreSQL full-text search\n\n")
	srv, err := pgbench.Start(func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) })
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if serr := srv.Stop(); serr != nil && err == nil {
				err = fmt.Errorf("postgres: %w", serr)
			}
		})
	}
	defer stop()
	// Interrupted, stop the server (and the node) before leaving: both are
	// ours and would outlive us.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			stop()
			syscall.Kill(p.pid, syscall.SIGINT)
			fmt.Fprintln(os.Stderr, "catalogue bench: interrupted; PostgreSQL stopped")
			os.Exit(1)
		case <-done:
		}
	}()
	db, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(p.clients)
	db.SetMaxIdleConns(p.clients)
	start := time.Now()
	pub := func(i int) (string, string) {
		return "12D3KooWPub" + strconv.Itoa(i%pubs), "Cooperativa " + strconv.Itoa(i%pubs)
	}
	if err := pgbench.Load(context.Background(), db, demo.Offerings(42, n), pub); err != nil {
		return fmt.Errorf("postgres load: %w", err)
	}
	fmt.Printf("%s: loaded and indexed %d offerings in %s\n", srv.Version, n, time.Since(start).Round(time.Millisecond))
	if err := p.check(db); err != nil {
		return err
	}
	nodeRuns, pgRuns := [][]load{first}, [][]load{}
	for i := range p.pairs {
		if i > 0 {
			fmt.Printf("\n### Pair %d: node\n", i+1)
			l, err := printLoad(p.base, p.pid, p.clients, p.queries)
			if err != nil {
				return err
			}
			nodeRuns = append(nodeRuns, l)
		}
		fmt.Printf("\n### Pair %d: PostgreSQL\n", i+1)
		l, err := p.printRun(db, srv.PID)
		if err != nil {
			return err
		}
		pgRuns = append(pgRuns, l)
		printPair(nodeRuns[i], l)
	}
	printMedians(nodeRuns, pgRuns)
	return nil
}

// check says whether the node and PostgreSQL agree on the totals of the
// kinds with no text (with text, the node also matches typos and partial
// words, PostgreSQL only stems), and whether PostgreSQL's italian
// configuration drops every stop word defeat adds, as the node does; then
// warms PostgreSQL up.
func (p *pgCompare) check(db *sql.DB) error {
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	same, all := 0, 0
	for _, k := range kinds() {
		if k.q(0).Get("q") != "" {
			continue
		}
		for i := range 10 {
			v := defeated(k.q(i), i)
			res, err := pgbench.Search(context.Background(), db, pgQuery(v))
			if err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
			all++
			if ours := total(c, p.base+"/api/v1/catalogue/search?"+v.Encode()); ours == res.Total {
				same++
			} else {
				fmt.Printf("totals differ on %s: node %d, PostgreSQL %d\n", v.Encode(), ours, res.Total)
			}
		}
	}
	fmt.Printf("totals of the node and PostgreSQL agree on %d of %d searches without text\n", same, all)
	// Warm up: two searches of each kind, as the node's index build
	// warmed the node.
	for _, k := range kinds() {
		for i := range 2 {
			if _, err := pgbench.Search(context.Background(), db, pgQuery(defeated(k.q(i), i))); err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
		}
	}
	var kept []string
	for _, w := range stopWords {
		var same bool
		if err := db.QueryRow("SELECT plainto_tsquery('italian', 'anziani ' || $1)::text = plainto_tsquery('italian', 'anziani')::text", w).Scan(&same); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if !same {
			kept = append(kept, w)
		}
	}
	if len(kept) > 0 {
		fmt.Printf("PostgreSQL keeps the stop words %s: its searches that hold them differ from the node's\n", strings.Join(kept, ", "))
	} else {
		fmt.Printf("PostgreSQL's italian configuration drops every stop word the load adds\n")
	}
	return nil
}

// pgQuery is the node's URL query v as the portal's query.
func pgQuery(v url.Values) pgbench.Query {
	page, _ := strconv.Atoi(v.Get("page"))
	per, _ := strconv.Atoi(v.Get("per_page"))
	return pgbench.Query{Text: v.Get("q"), Category: v.Get("category"), Municipality: v.Get("municipality"),
		Price: v.Get("price"), Mode: v.Get("mode"), Lang: v.Get("lang"), Publisher: v.Get("publisher"), Page: page, PerPage: per}
}

// printRun runs every kind on PostgreSQL and prints the table.
func (p *pgCompare) printRun(db *sql.DB, postmaster int) ([]load, error) {
	fmt.Printf("\n| query kind (PostgreSQL, %d clients, up to %d answers or %s) | p50 | p99 | max | matches (mean) | answers | PostgreSQL CPU per answer |\n|---|---|---|---|---|---|---|\n",
		p.clients, p.clients*p.queries, p.limit)
	var out []load
	la := loadavg()
	for _, k := range kinds() {
		cpu0 := pgCPU(postmaster)
		l, err := runPG(db, k, p.clients, p.queries, p.limit)
		if err != nil {
			return nil, err
		}
		l.cpu = pgCPU(postmaster) - cpu0
		out = append(out, l)
		fmt.Printf("| %s | %.2f ms | %.2f ms | %.1f ms | %d | %d | %.2f ms |\n", k.name, ms(l.p50), ms(l.p99), ms(l.max),
			l.matches/int64(l.answers), l.answers, ms(l.cpu)/float64(l.answers))
	}
	fmt.Printf("\nload average (1 min) at start %s, at end %s\n", la, loadavg())
	return out, nil
}

// runPG is one kind's run on PostgreSQL: clients closed-loop clients, each
// searching n times (or until limit has passed) with the texts the node
// sees, decoding every row.
func runPG(db *sql.DB, k kind, clients, n int, limit time.Duration) (load, error) {
	var (
		mu    sync.Mutex
		lat   []time.Duration
		found int64
		first error
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(limit)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n)
			var matches int64
			for j := 0; j < n && time.Now().Before(deadline); j++ {
				i := c*n + j
				q := pgQuery(defeated(k.q(i), i))
				t := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := pgbench.Search(ctx, db, q)
				cancel()
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
				matches += int64(res.Total)
			}
			mu.Lock()
			lat = append(lat, mine...)
			found += matches
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return load{}, fmt.Errorf("postgres %s: %w", k.name, first)
	}
	if len(lat) == 0 {
		return load{}, fmt.Errorf("postgres %s: no answers", k.name)
	}
	slices.Sort(lat)
	return load{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], max: lat[len(lat)-1], answers: len(lat), matches: found}, nil
}

// pgCPU is the CPU time of the PostgreSQL server: the postmaster and its
// children (the sessions, which live as long as the pool's connections).
func pgCPU(postmaster int) time.Duration {
	total := cpuTime(postmaster)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(postmaster) {
			total += cpuTime(pid)
		}
	}
	return total
}

// printPair prints one pair's node and PostgreSQL figures side by side.
func printPair(node, pg []load) {
	fmt.Printf("\n| query kind | node p50 | node p99 | PostgreSQL p50 | PostgreSQL p99 | PostgreSQL ÷ node at p99 |\n|---|---|---|---|---|---|\n")
	for i, k := range kinds() {
		fmt.Printf("| %s | %.2f ms | %.2f ms | %.1f ms | %.1f ms | %.1f× |\n", k.name, ms(node[i].p50), ms(node[i].p99),
			ms(pg[i].p50), ms(pg[i].p99), float64(pg[i].p99)/float64(node[i].p99))
	}
}

// printMedians prints, per kind, every run's p99 and the median of each
// side, and the ratio of the medians.
func printMedians(node, pg [][]load) {
	fmt.Printf("\n### Medians over %d pairs (HTTP node, cache defeated, vs PostgreSQL)\n\n", len(pg))
	fmt.Printf("| query kind | node p99 per run | node median p99 | PostgreSQL p99 per run | PostgreSQL median p99 | PostgreSQL ÷ node (medians) |\n|---|---|---|---|---|---|\n")
	for i, k := range kinds() {
		a, b := p99s(node, i), p99s(pg, i)
		fmt.Printf("| %s | %s | %.2f ms | %s | %.1f ms | %.1f× |\n", k.name, list(a), ms(median(a)), list(b), ms(median(b)),
			float64(median(b))/float64(median(a)))
	}
}

func p99s(runs [][]load, kind int) []time.Duration {
	var out []time.Duration
	for _, r := range runs {
		out = append(out, r[kind].p99)
	}
	return out
}

// median is the median of ds (the mean of the middle two for an even
// count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func list(ds []time.Duration) string {
	var f []string
	for _, d := range ds {
		f = append(f, fmt.Sprintf("%.1f", ms(d)))
	}
	return strings.Join(f, " / ") + " ms"
}
