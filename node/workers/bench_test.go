package workers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/difronte/difronte/schema"
)

// milanArea is every valid ISTAT code of the province of Milan (015…).
func milanArea() []string {
	var out []string
	for i := 1; i < 260; i++ {
		if c := fmt.Sprintf("015%03d", i); schema.ValidMunicipality(c) {
			out = append(out, c)
		}
	}
	return out
}

// genProfiles fills a Profiles with n random profiles of 20 publishers,
// each working in 1–5 municipalities of the province of Milan.
func genProfiles(tb testing.TB, n int, seed uint64) (*Profiles, []string) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	area := milanArea()
	langs := []string{"it", "ro", "uk", "es", "tl", "ar", "sq", "ru"}
	today := time.Now().UTC().Format(time.DateOnly)
	p, _ := NewProfiles(tb.Context(), nil, nil, nil)
	for i := range n {
		w := schema.WorkerProfile{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Alias: "Nome C.", Coop: "Coop",
			ExperienceYears: rng.IntN(25), Languages: []string{"it"}, CheckedOn: today,
			Availability: schema.WorkerAvailability{Days: []schema.Weekday{schema.Monday}, HoursPerWeek: 10 + rng.IntN(45),
				LiveIn: rng.IntN(3) == 0, Night: rng.IntN(2) == 0},
			Pay: schema.WorkerPay{AmountCents: int64(90000 + rng.IntN(80000)), Unit: schema.PerMonth}}
		for _, k := range schema.WorkKinds {
			if rng.IntN(2) == 0 {
				w.Work = append(w.Work, k)
			}
		}
		if l := langs[rng.IntN(len(langs))]; l != "it" {
			w.Languages = append(w.Languages, l)
		}
		for range 1 + rng.IntN(5) {
			if a := area[rng.IntN(len(area))]; !slices.Contains(w.Areas, a) {
				w.Areas = append(w.Areas, a)
			}
		}
		if rng.IntN(3) == 0 {
			w.Certificates = []schema.Certificate{"oss"}
		}
		body, _ := json.Marshal(w)
		p.Apply(&schema.Entry{Publisher: fmt.Sprintf("pub%02d", i%20), Kind: schema.KindWorker, Key: w.ID, Seq: 1, Body: body})
	}
	return p, area
}

func randomNeed(rng *rand.Rand, area []string) Need {
	return Need{Work: schema.WorkKinds[rng.IntN(len(schema.WorkKinds))], HoursPerWeek: 10 + rng.IntN(40), LiveIn: rng.IntN(4) == 0,
		Languages: []string{"ro", "it"}[:1+rng.IntN(2)], Municipality: area[rng.IntN(len(area))], BudgetCents: int64(100000 + rng.IntN(50000))}
}

// TestMatchIndexIsScan: matching through the index by municipality ranks
// exactly what a plain scan of every profile ranks.
func TestMatchIndexIsScan(t *testing.T) {
	p, area := genProfiles(t, 3000, 7)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 200 {
		n := randomNeed(rng, area)
		a, b := p.Match(n), p.MatchScan(n)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("need %+v: index %d matches, scan %d", n, len(a), len(b))
		}
		for i := 1; i < len(a); i++ {
			if a[i].Score > a[i-1].Score {
				t.Fatalf("not ranked: %d after %d", a[i].Score, a[i-1].Score)
			}
		}
	}
}

// BenchmarkMatch matches family requests against 10,000 public profiles
// with 8 concurrent requests, through the index by municipality and, as
// the same-run baseline, by a plain scan; it reports p50 and p99.
func BenchmarkMatch(b *testing.B) {
	const clients = 8
	p, area := genProfiles(b, 10_000, 1)
	for _, kind := range []string{"index", "scan"} {
		b.Run(kind, func(b *testing.B) {
			match := p.Match
			if kind == "scan" {
				match = p.MatchScan
			}
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			per := max(b.N/clients, 1)
			b.ResetTimer()
			for c := range clients {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(c), 2))
					mine := make([]time.Duration, 0, per)
					for range per {
						n := randomNeed(rng, area)
						start := time.Now()
						match(n)
						mine = append(mine, time.Since(start))
						runtime.Gosched() // a client waits for its answer, as over HTTP
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
