package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsoniter "github.com/json-iterator/go"

	"github.com/difronte/difronte/bench/internal/scrape"
	catsearch "github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// kind is one query kind of the mix: its URL query for the i-th search.
type kind struct {
	name string
	q    func(i int) url.Values
}

// kinds are the nine query kinds of the mix: the funnel's levels, a
// municipality, free/paid, text and a common word.
func kinds() []kind {
	tops := schema.TopTerms()
	var subs []schema.TaxonomyTerm
	for _, t := range tops {
		subs = append(subs, schema.Children(t.Code)...)
	}
	places := []string{"015146", "080063", "058091", "015209", "108033", "080057"}
	text := func(s string) func(int) url.Values { return func(int) url.Values { return url.Values{"q": {s}} } }
	return []kind{
		{"top category", func(i int) url.Values { return url.Values{"category": {tops[i%len(tops)].Code}} }},
		{"category + municipality", func(i int) url.Values {
			return url.Values{"category": {tops[i%len(tops)].Code}, "municipality": {places[i%len(places)]}}
		}},
		{"subcategory + municipality + free", func(i int) url.Values {
			return url.Values{"category": {subs[i%len(subs)].Code}, "municipality": {places[i%len(places)]}, "price": {"free"}}
		}},
		{`"anziani"`, text("anziani")},
		{`"assistenza domiciliare"`, text("assistenza domiciliare")},
		{`"badante notte"`, text("badante notte")},
		{`"fisioterapia a domicilio"`, text("fisioterapia a domicilio")},
		{`"dog sitter"`, text("dog sitter")},
		{`common word "servizio"`, text("servizio")},
	}
}

// stopWords are dropped by the analyzer: appended to a query they change
// its text, and so the result cache's key, but not what it finds, as real
// citizens' queries differ.
var stopWords = strings.Fields("di a da in con su per tra il lo la gli le un una e")

// defeat returns v with q extended by stop words spelling i, encoded: no
// two searches of a run share a cache entry.
func defeat(v url.Values, i int) string { return defeated(v, i).Encode() }

// defeated is v with q extended by stop words spelling i.
func defeated(v url.Values, i int) url.Values {
	var b strings.Builder
	b.WriteString(v.Get("q"))
	for n := i + 1; n > 0; n /= len(stopWords) {
		b.WriteByte(' ')
		b.WriteString(stopWords[n%len(stopWords)])
	}
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set("q", strings.TrimSpace(b.String()))
	return out
}

// answer is what the client decodes of every answer, as a page would:
// the node's own answer type.
type answer = catsearch.Answer

// load is one kind's run: clients closed-loop clients, each searching n
// times, the cache defeated.
type load struct {
	p50, p99, max time.Duration
	answers       int
	matches       int64         // totals of all answers
	bytes         int64         // of all answers
	gcs           int           // collections in the node during the run
	cpu           time.Duration // the node's CPU time (user + system) during the run
}

func runLoad(base string, pid int, k kind, clients, n int) (load, error) {
	gc0, cpu0 := gcCount(base), cpuTime(pid)
	var (
		mu    sync.Mutex
		lat   []time.Duration
		recv  int64
		found int64
		first error
		wg    sync.WaitGroup
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			mine := make([]time.Duration, 0, n)
			var size, matches int64
			var buf bytes.Buffer
			for j := range n {
				i := c*n + j
				took, total, err := search(hc, base+"/api/v1/catalogue/search?"+defeat(k.q(i), i), &buf)
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, took)
				size += int64(buf.Len())
				matches += int64(total)
			}
			mu.Lock()
			lat = append(lat, mine...)
			recv += size
			found += matches
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return load{}, fmt.Errorf("%s: %w", k.name, first)
	}
	slices.Sort(lat)
	return load{
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], max: lat[len(lat)-1],
		answers: len(lat), matches: found, bytes: recv, gcs: gcCount(base) - gc0, cpu: cpuTime(pid) - cpu0,
	}, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// decoder decodes answers as encoding/json does, at a fraction of its CPU:
// the load generator shares the node's two cores, and every millisecond it
// spends decoding is one the node waits for a core.
var decoder = jsoniter.ConfigCompatibleWithStandardLibrary

// search runs one search and returns how long the answer took, from
// the request to its last byte, and its total. The answer is then decoded
// from buf, as a page would, outside the time: like wrk or hey, the
// latency is the node's and the network's, not the client's JSON decoder
// (which costs the client as much CPU as the answer costs the node).
func search(c *http.Client, u string, buf *bytes.Buffer) (time.Duration, int, error) {
	buf.Reset()
	t := time.Now()
	resp, err := c.Get(u)
	if err != nil {
		return 0, 0, err
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	took := time.Since(t)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: %d %.512s", u, resp.StatusCode, buf.Bytes())
	}
	var a answer
	if err := decoder.Unmarshal(buf.Bytes(), &a); err != nil {
		return 0, 0, err
	}
	return took, a.Total, nil
}

// gcCount reads the node's completed collections from its /metrics.
func gcCount(base string) int {
	n, ok := scrape.Metric(base, "go_gc_duration_seconds_count")
	if !ok {
		return -1
	}
	return int(n)
}

// cpuTime is the CPU time (user + system) process pid has used, from
// /proc/PID/stat in clock ticks of 10 ms: over hundreds of answers it says
// what an answer costs the node whatever else runs on the machine.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // fields from 3 on
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// onlyKinds, when set (-only, with -url), limits printLoad to the kinds
// whose name contains it.
var onlyKinds string

// printLoad runs every kind with clients clients, prints the table and
// returns each kind's figures, in the order of kinds().
func printLoad(base string, pid, clients, n int) ([]load, error) {
	fmt.Printf("\n| query kind (HTTP, %d clients, cache defeated, %d answers) | p50 | p99 | max | matches (mean) | answer size | GCs per 1,000 answers | node CPU per answer |\n|---|---|---|---|---|---|---|---|\n", clients, clients*n)
	la := loadavg()
	out, err := kindLoads(base, pid, clients, n, func(k kind, l load) {
		fmt.Printf("| %s | %.2f ms | %.2f ms | %.1f ms | %d | %.1f KB | %.1f | %.2f ms |\n", k.name, ms(l.p50), ms(l.p99), ms(l.max),
			l.matches/int64(l.answers), float64(l.bytes)/float64(l.answers)/1000, float64(l.gcs)*1000/float64(l.answers), ms(l.cpu)/float64(l.answers))
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("\nload average (1 min) at start %s, at end %s\n", la, loadavg())
	return out, nil
}

// kindLoads runs every kind (those of -only, when set) against base with
// clients clients, n searches each, in the order of kinds(), and tells
// each, when set, of every kind's figures as it ends.
func kindLoads(base string, pid, clients, n int, each func(kind, load)) ([]load, error) {
	var out []load
	for _, k := range kinds() {
		if !strings.Contains(k.name, onlyKinds) {
			continue
		}
		l, err := runLoad(base, pid, k, clients, n)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
		if each != nil {
			each(k, l)
		}
	}
	return out, nil
}

// loadavg is the machine's load average over the last minute.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
