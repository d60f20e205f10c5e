package search

import (
	"context"
	"net/url"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node/catalogue"
)

// BenchmarkDemoAnswer measures the CPU of one uncached answer, from the
// query string to the answer's JSON, for the text kinds of bench/catalogue
// on its catalogue (demo.Offerings, 100,000 from 300 publishers): one
// client. ns/op is wall time, which the other work of a shared machine
// lengthens; cpu-us/op is the process's CPU time (the collector's
// included) per answer, which it does not.
func BenchmarkDemoAnswer(b *testing.B) {
	x := bareIndex(b)
	putAll(b, x, demo.Offerings(42, 100_000), 300)
	listings, err := catalogue.NewFederated(context.Background(), x.cfg.Replica)
	if err != nil {
		b.Fatal(err)
	}
	c := &Catalogue{Index: x, Listings: listings}
	x.mem.noResultCache = true
	for _, text := range []string{"anziani", "assistenza domiciliare", "servizio", "badante notte", "dog sitter", "fisioterapia a domicilio"} {
		runtime.GC() // not this answer's garbage: the build's, the previous kind's
		b.Run(text, func(b *testing.B) {
			var buf []byte
			cpu0 := cpuTime()
			for b.Loop() {
				q, err := ParseQuery(url.Values{"q": {text}}, false)
				if err != nil {
					b.Fatal(err)
				}
				ans, err := c.Search(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				buf = ans.AppendJSON(buf[:0])
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
