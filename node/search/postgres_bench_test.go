package search

import (
	"context"
	"database/sql"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/difronte/difronte/bench/pgbench"
)

// BenchmarkCatalogueSearchVsPostgres runs the same funnel query mix on the
// same 100,000 offerings against this index and against PostgreSQL
// full-text search (italian configuration, GIN indexes, facet counts with
// GROUP BY), which is what a central portal would use, with 8 concurrent
// clients, and reports p50/p99 per kind and the p99 ratio. It starts a
// throwaway PostgreSQL server on loopback (bench/pgbench: installing
// Debian's postgresql package when initdb is missing), so it runs only with
// DIFRONTE_BENCH_POSTGRES=1 (make bench).
func BenchmarkCatalogueSearchVsPostgres(b *testing.B) {
	if os.Getenv("DIFRONTE_BENCH_POSTGRES") != "1" {
		b.Skip("set DIFRONTE_BENCH_POSTGRES=1 to start a PostgreSQL server and compare")
	}
	const pubs, clients = 300, 8
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	x, build, docs := benchIndex(b, n, pubs)
	defer x.Close()
	b.Logf("index: %d offerings in %v", n, build)

	pg, err := pgbench.Start(b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := pg.Stop(); err != nil {
			b.Error(err)
		}
	}()
	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	start := time.Now()
	publisher := func(i int) (string, string) {
		return "12D3KooWPub" + strconv.Itoa(i%pubs), "Cooperativa " + strconv.Itoa(i%pubs)
	}
	if err := pgbench.Load(context.Background(), db, docs, publisher); err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres %s: loaded and indexed %d offerings in %v", pg.Version, n, time.Since(start))
	docs = nil
	runtime.GC()

	p99 := map[string]time.Duration{}
	for _, k := range benchKinds(genPlaces()) {
		if k.bare {
			continue
		}
		// Totals agree where both mean the same (no text: ours also
		// matches typos, PostgreSQL only stems).
		if k.q(0).Text == "" {
			for i := range 20 {
				q := k.q(i)
				ours, err := x.Search(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				theirs, err := pgSearch(context.Background(), db, q)
				if err != nil {
					b.Fatal(err)
				}
				if ours.Total != theirs {
					b.Errorf("%+v: total %d here, %d in postgres", q, ours.Total, theirs)
				}
			}
		}
		x.mem.noResultCache = true
		b.Run("difronte/"+k.name, func(b *testing.B) {
			lat := runClients(b, clients, func(i int) error {
				_, err := x.Search(context.Background(), k.q(i))
				return err
			})
			p99[k.name] = reportLatency(b, lat)
		})
		b.Run("postgres/"+k.name, func(b *testing.B) {
			lat := runClients(b, clients, func(i int) error {
				_, err := pgSearch(context.Background(), db, k.q(i))
				return err
			})
			theirs := reportLatency(b, lat)
			if ours := p99[k.name]; ours > 0 {
				b.ReportMetric(float64(theirs)/float64(ours), "p99-ratio")
			}
		})
	}
}

// runClients runs b.N calls of fn split over clients goroutines, each
// waiting for its answer before the next, and returns every latency.
func runClients(b *testing.B, clients int, fn func(i int) error) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	per := max(b.N/clients, 1)
	b.ResetTimer()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, per)
			for i := range per {
				start := time.Now()
				if err := fn(c*per + i); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
				runtime.Gosched()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	return lat
}

// reportLatency reports p50 and p99 and returns p99.
func reportLatency(b *testing.B, lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	return p99
}

// pgSearch runs q as the portal would (see bench/pgbench) and returns
// its total.
func pgSearch(ctx context.Context, db *sql.DB, q Query) (int, error) {
	res, err := pgbench.Search(ctx, db, pgbench.Query{Text: q.Text, Category: q.Category, Municipality: q.Municipality,
		Price: q.Price, Mode: q.Mode, Lang: q.Lang, Publisher: q.Publisher, Page: q.Page, PerPage: q.PerPage})
	return res.Total, err
}
