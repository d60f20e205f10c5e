package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/schema"
)

// BenchmarkQualifiedFilter measures the cost of the "qualified only" filter:
// the same query mix with and without it, one client, result cache off, on
// an index where half the publishers hold a qualification. The goal is that
// filtering costs no more than 1.1× the unfiltered query (issue 4).
func BenchmarkQualifiedFilter(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	// Built like benchIndex, but with every second publisher qualified.
	f := newFixture(b, newReplica(b), 1)
	x, err := open(Config{Replica: f.rep, Clock: f.clk})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	qual := &Qualification{Authority: "Città Metropolitana", Until: f.clk.Now().Add(365 * 24 * time.Hour)}
	bt := x.newBatcher()
	for i, o := range genOfferings(42, n) {
		p := i % 300
		var q *Qualification
		if p%2 == 0 {
			q = qual
		}
		pub := "12D3KooWPub" + itoa(p)
		bt.ops = append(bt.ops, op{id: docID(pub, o.ID), in: x.document(pub, "Cooperativa "+itoa(p), o, q)})
		if err := bt.maybeFlush(); err != nil {
			b.Fatal(err)
		}
	}
	if err := bt.flush(true); err != nil {
		b.Fatal(err)
	}
	x.mem.noResultCache = true
	tops := schema.TopTerms()
	places := genPlaces()
	queries := func(i int, qualified bool) Query {
		q := []Query{
			{Category: tops[i%len(tops)].Code, Municipality: places[i%len(places)]},
			{Category: tops[i%len(tops)].Code},
			{Text: []string{"assistenza anziani", "pasti a domicilio", "compagnia"}[i%3]},
		}[i%3]
		q.QualifiedOnly = qualified
		return q
	}
	var p50 [2]time.Duration
	for j, qualified := range []bool{false, true} {
		name := "all"
		if qualified {
			name = "qualified-only"
		}
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := range b.N {
				start := time.Now()
				res, err := x.Search(context.Background(), queries(i, qualified))
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				if qualified && res.Total > 0 && (len(res.Hits) == 0 || res.Hits[0].Qualified == nil) {
					b.Fatal("qualified-only returned an unqualified offering")
				}
			}
			slices.Sort(lat)
			p50[j] = lat[len(lat)/2]
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
	if p50[0] > 0 {
		b.Logf("qualified-only p50 / all p50 = %.2f", float64(p50[1])/float64(p50[0]))
	}
}

func itoa(i int) string {
	var sb strings.Builder
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append(d, byte('0'+i%10))
	}
	slices.Reverse(d)
	sb.Write(d)
	return sb.String()
}
