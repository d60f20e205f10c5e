package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/difronte/difronte/schema"
)

// BenchmarkCatalogueSearchVsPostgres runs the same funnel query mix on the
// same 100,000 offerings against this index and against PostgreSQL
// full-text search (italian configuration, GIN indexes, facet counts with
// GROUP BY), which is what a central portal would use, with 8 concurrent
// clients, and reports p50/p99 per kind and the p99 ratio. It starts a
// throwaway PostgreSQL server on loopback (installing Debian's postgresql
// package when initdb is missing), so it runs only with
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

	pg := startPostgres(b)
	defer pg.stop(b)
	db, err := sql.Open("pgx", pg.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	start := time.Now()
	if err := loadPostgres(context.Background(), db, x, docs, pubs); err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres %s: loaded and indexed %d offerings in %v", pg.version, n, time.Since(start))
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

// pgSearch is the portal's query: the first page (by rank for text, else
// by name) and, in one statement over the matching rows, the total and
// every facet's counts, cut to the same sizes as ours.
func pgSearch(ctx context.Context, db *sql.DB, q Query) (int, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Category != "" {
		conds = append(conds, "categories @> ARRAY["+arg(q.Category)+"]::text[]")
	}
	if q.Municipality != "" {
		conds = append(conds, "areas @> ARRAY["+arg(q.Municipality)+"]::text[]")
	}
	if q.Price != "" {
		conds = append(conds, "price = "+arg(q.Price))
	}
	if q.Mode != "" {
		conds = append(conds, "mode = "+arg(q.Mode))
	}
	if q.Lang != "" {
		conds = append(conds, "langs @> ARRAY["+arg(q.Lang)+"]::text[]")
	}
	if q.Publisher != "" {
		conds = append(conds, "publisher = "+arg(q.Publisher))
	}
	order := "name, id"
	if q.Text != "" {
		t := arg(q.Text)
		conds = append(conds, "tsv @@ plainto_tsquery('italian', "+t+")")
		order = "ts_rank(tsv, plainto_tsquery('italian', " + t + ")) DESC, name, id"
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	rows, err := db.QueryContext(ctx, "SELECT id, name FROM offering WHERE "+where+" ORDER BY "+order+" LIMIT 20", args...)
	if err != nil {
		return 0, fmt.Errorf("page: %w", err)
	}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows, err = db.QueryContext(ctx, `WITH r AS MATERIALIZED (SELECT categories, areas, price, mode, langs, publisher FROM offering WHERE `+where+`)
SELECT 'total', '', count(*) FROM r
UNION ALL (SELECT 'category', c, count(*) FROM r, unnest(r.categories) c GROUP BY c)
UNION ALL (SELECT 'municipality', a, count(*) FROM r, unnest(r.areas) a GROUP BY a ORDER BY 3 DESC, 2 LIMIT 30)
UNION ALL (SELECT 'price', price, count(*) FROM r GROUP BY price)
UNION ALL (SELECT 'mode', mode, count(*) FROM r GROUP BY mode)
UNION ALL (SELECT 'lang', l, count(*) FROM r, unnest(r.langs) l GROUP BY l ORDER BY 3 DESC, 2 LIMIT 30)
UNION ALL (SELECT 'publisher', publisher, count(*) FROM r GROUP BY publisher ORDER BY 3 DESC, 2 LIMIT 30)`, args...)
	if err != nil {
		return 0, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		var facet, value string
		var count int
		if err := rows.Scan(&facet, &value, &count); err != nil {
			return 0, err
		}
		if facet == "total" {
			total = count
		}
	}
	return total, rows.Err()
}

// loadPostgres creates the portal's table with the same text as our index
// (name, descriptions, coop, category names and keywords, municipality
// names), COPYs the offerings in, and builds the indexes.
func loadPostgres(ctx context.Context, db *sql.DB, x *Index, docs []schema.Offering, pubs int) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE offering (
  id text PRIMARY KEY, publisher text NOT NULL, name text NOT NULL, body text NOT NULL,
  categories text[] NOT NULL, areas text[] NOT NULL, price text NOT NULL, mode text NOT NULL, langs text[] NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('italian', name || ' ' || body)) STORED)`); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		i := 0
		_, err := c.CopyFrom(ctx, pgx.Identifier{"offering"},
			[]string{"id", "publisher", "name", "body", "categories", "areas", "price", "mode", "langs"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(docs) {
					return nil, nil
				}
				o := docs[i]
				pub := "12D3KooWPub" + strconv.Itoa(i%pubs)
				in := x.document(pub, "Cooperativa "+strconv.Itoa(i%pubs), o, nil)
				i++
				body := []string{o.Description, o.Eligibility.Description, o.Cost.Description, "Cooperativa " + strconv.Itoa((i-1)%pubs)}
				for _, code := range in.vals[ffCategory] {
					if t, ok := schema.Term(code); ok {
						body = append(body, t.NameIT)
						body = append(body, t.Keywords...)
					}
				}
				for _, a := range o.Areas {
					if m, ok := schema.LookupMunicipality(a); ok {
						body = append(body, m.Name)
					}
				}
				return []any{in.id, pub, o.Name, strings.Join(body, " "), in.vals[ffCategory], o.Areas,
					string(o.Cost.Type), string(o.Delivery), o.Languages}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	for _, s := range []string{
		"CREATE INDEX offering_tsv ON offering USING gin (tsv)",
		"CREATE INDEX offering_categories ON offering USING gin (categories)",
		"CREATE INDEX offering_areas ON offering USING gin (areas)",
		"CREATE INDEX offering_langs ON offering USING gin (langs)",
		"CREATE INDEX offering_publisher ON offering (publisher)",
		"CREATE INDEX offering_price ON offering (price)",
		"CREATE INDEX offering_mode ON offering (mode)",
		"CREATE INDEX offering_name ON offering (name, id)",
		"VACUUM ANALYZE offering",
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// pgServer is a throwaway PostgreSQL server on loopback.
type pgServer struct {
	dir, bin, user, dsn, version string
}

// startPostgres finds (or installs) PostgreSQL, initialises a cluster in a
// temporary directory owned by an unprivileged user and starts it on a
// free loopback port, with its socket in that directory.
func startPostgres(b *testing.B) *pgServer {
	b.Helper()
	bin := ""
	if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else {
		b.Log("initdb not found: installing Debian's postgresql package")
		install := exec.Command("apt-get", "install", "-y", "postgresql")
		install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := install.CombinedOutput(); err != nil {
			b.Fatalf("apt-get install postgresql: %v\n%s", err, out)
		}
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(found) == 0 {
			b.Fatal("postgresql installed but no initdb found")
		}
		slices.Sort(found)
		bin = filepath.Dir(found[len(found)-1])
	}
	s := &pgServer{bin: bin}
	dir, err := os.MkdirTemp("", "difronte-pgbench-")
	if err != nil {
		b.Fatal(err)
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		s.user = "postgres"
		if _, err := user.Lookup(s.user); err != nil {
			s.user = "difronte-pgbench"
			if _, err := user.Lookup(s.user); err != nil {
				if out, err := exec.Command("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", s.user).CombinedOutput(); err != nil {
					b.Fatalf("useradd: %v\n%s", err, out)
				}
			}
		}
		u, err := user.Lookup(s.user)
		if err != nil {
			b.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			b.Fatal(err)
		}
	}
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		b.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// fsync off only speeds up the load; the measured queries only read.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if out, err := s.run(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-o", opts,
		"-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		b.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s.dsn = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	if out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output(); err == nil {
		s.version = strings.TrimSpace(string(out))
	}
	return s
}

// run runs a PostgreSQL program as the server's user.
func (s *pgServer) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	if s.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.user, "--", prog}, args...)...)
	}
	return cmd.CombinedOutput()
}

func (s *pgServer) stop(b *testing.B) {
	out, err := s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop")
	if err != nil {
		b.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	if err := os.RemoveAll(s.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		b.Error(err)
	}
}
