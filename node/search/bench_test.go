package search

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/difronte/difronte/schema"
)

// benchIndex builds an on-disk index of n generated offerings from pubs
// publishers directly (no replica: signing 100k entries would dominate),
// in batches as the follower does, and returns it with the build time.
func benchIndex(b *testing.B, n, pubs int) (*Index, time.Duration, []schema.Offering) {
	b.Helper()
	x := bareIndex(b)
	docs := genOfferings(42, n)
	start := time.Now()
	putAll(b, x, docs, pubs)
	return x, time.Since(start), docs
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkCatalogueSearch runs the funnel's query kinds on 100,000
// offerings from 300 publishers with 8 concurrent clients and reports p50
// and p99 per kind. The baseline kind is a plain scan of every document for
// category + municipality with facet counts, measured in the same run (the
// comparison with PostgreSQL is bench/searchbench).
func BenchmarkCatalogueSearch(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	x, build, docs := benchIndex(b, n, 300)
	defer x.Close()
	places := genPlaces()
	docs = nil
	runtime.GC()
	debug.FreeOSMemory() // give back the generator's garbage before reading RSS
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(build.Seconds(), "build-s")
	b.Logf("built %d offerings in %v; RSS %.0f MB; live heap %.0f MB", n, build, rssMB(), float64(ms.HeapAlloc)/(1<<20))
	kinds := benchKinds(places)
	_ = docs
	for _, clients := range []int{1, 8} {
		for _, cached := range []bool{false, true} {
			for _, k := range kinds {
				name := fmt.Sprintf("%s/clients=%d/uncached", k.name, clients)
				if cached {
					name = fmt.Sprintf("%s/clients=%d/cached", k.name, clients)
					if k.bare {
						continue
					}
				}
				x.mem.noResultCache = !cached
				b.Run(name, func(b *testing.B) {
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
								q := k.q(c*per + i)
								start := time.Now()
								var err error
								if k.bare {
									_, err = x.bareSearch(q)
								} else {
									_, err = x.Search(context.Background(), q)
								}
								if err != nil {
									b.Error(err)
									return
								}
								mine = append(mine, time.Since(start))
								// A client waits for its answer before the next
								// query, as over HTTP: the goroutine yields instead
								// of keeping the core for back-to-back queries,
								// which would make the others wait whole time slices.
								runtime.Gosched()
							}
							mu.Lock()
							lat = append(lat, mine...)
							mu.Unlock()
						}()
					}
					wg.Wait()
					b.StopTimer()
					slices.Sort(lat)
					if len(lat) > 0 {
						b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
						b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					}
					b.ReportMetric(rssMB(), "rss-MB")
				})
			}
		}
	}
}

// bareSearch is the baseline: a scan of every document for the category
// and municipality filters, counting facets as it goes.
func (x *Index) bareSearch(q Query) (int, error) {
	m := x.mem
	m.mu.RLock()
	defer m.mu.RUnlock()
	cat, okc := m.fids[ffCategory][q.Category]
	place, okp := m.fids[ffPlace][q.Municipality]
	if !okc || !okp {
		return 0, nil
	}
	counts := make([]int, len(m.fvals))
	n := 0
	for i := range m.docs {
		d := &m.docs[i]
		if d.idLen == 0 || !slices.Contains(m.vals(d), cat) || !slices.Contains(m.vals(d), place) {
			continue
		}
		n++
		for _, v := range m.vals(d) {
			counts[v]++
		}
	}
	return n, nil
}

// benchKind is one kind of query of the benchmarks' mix; bare marks the
// plain-scan baseline.
type benchKind struct {
	name string
	q    func(i int) Query
	bare bool
}

// benchKinds is the funnel's query mix: filters only, free text, common
// words, text with filters.
func benchKinds(places []string) []benchKind {
	tops := schema.TopTerms()
	return []benchKind{
		{"baseline-scan-category+municipality+facets", func(i int) Query {
			return Query{Category: tops[i%len(tops)].Code, Municipality: places[i%len(places)]}
		}, true},
		{"category+municipality+facets", func(i int) Query {
			return Query{Category: tops[i%len(tops)].Code, Municipality: places[i%len(places)]}
		}, false},
		{"top-category+facets", func(i int) Query { return Query{Category: tops[i%len(tops)].Code} }, false},
		{"text+facets", func(i int) Query {
			return Query{Text: []string{"assistenza anziani", "baby sitter", "pasti a domicilio", "trasporto visite", "compagnia"}[i%5]}
		}, false},
		{"common-term+facets", func(i int) Query { return Query{Text: []string{"servizio", "casa", "aiuto"}[i%3]} }, false},
		{"text+category+municipality", func(i int) Query {
			return Query{Text: "aiuto", Category: tops[i%len(tops)].Code, Municipality: places[i%len(places)]}
		}, false},
	}
}
