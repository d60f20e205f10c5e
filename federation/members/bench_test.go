package members_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/testnet/poll"
)

// BenchmarkFailureDetection measures, in real time on the in-memory
// network, how long until every node lists a crashed node offline, and
// false alarms: suspicions of live nodes (and refutations) in a 3 s
// stable period and during the detection, and live nodes listed offline
// (observer, node pairs) at the end. The baseline is
// memberlist's DefaultLANConfig timing, run in the same process.
//
//	go test -run '^$' -bench BenchmarkFailureDetection -benchtime 1x ./federation/members/
func BenchmarkFailureDetection(b *testing.B) {
	lan := memberlist.DefaultLANConfig()
	profiles := []struct {
		name string
		tune func(*members.Config)
	}{
		{"tuned", nil},
		{"wan", func(c *members.Config) { c.Profile = members.ProfileWAN }},
		{"lan-defaults", func(c *members.Config) {
			c.Timing = members.Timing{
				ProbeInterval:           lan.ProbeInterval,
				ProbeTimeout:            lan.ProbeTimeout,
				SuspicionMult:           lan.SuspicionMult,
				SuspicionMaxTimeoutMult: lan.SuspicionMaxTimeoutMult,
				GossipInterval:          lan.GossipInterval,
				GossipNodes:             lan.GossipNodes,
				PushPullInterval:        lan.PushPullInterval,
				TCPTimeout:              lan.TCPTimeout,
			}
		}},
	}
	for _, n := range []int{10, 50} {
		for _, p := range profiles {
			b.Run(fmt.Sprintf("N=%d/%s", n, p.name), func(b *testing.B) {
				var total, worst time.Duration
				var stable, during alarms
				runs := 0
				for b.Loop() {
					b.StopTimer()
					baseline := runtime.NumGoroutine()
					c := startCluster(b, n, p.tune)
					time.Sleep(3 * time.Second) // stable period
					s := c.falseAlarms(-1)
					sv := c.falseAlarms(n / 2) // same, minus the victim's part
					b.StartTimer()
					took, _ := c.measureDetection(b, n/2, time.Minute)
					b.StopTimer()
					d := c.falseAlarms(n / 2)
					c.close()
					waitGoroutines(b, baseline)
					b.StartTimer()
					total += took
					worst = max(worst, took)
					stable.suspicions += s.suspicions
					stable.deaths += s.deaths
					during.suspicions += d.suspicions - sv.suspicions
					during.deaths += d.deaths
					runs++
				}
				b.ReportMetric(total.Seconds()/float64(runs), "detect-s")
				b.ReportMetric(worst.Seconds(), "worst-detect-s")
				b.ReportMetric(float64(stable.suspicions)/float64(runs), "stable-suspicions/op")
				b.ReportMetric(float64(during.suspicions)/float64(runs), "detect-suspicions/op")
				b.ReportMetric(float64(stable.deaths+during.deaths)/float64(runs), "false-offline/op")
			})
		}
	}
}

// waitGoroutines waits until memberlist's lingering probe goroutines
// (they wait on timers up to a scaled probe interval) have ended.
func waitGoroutines(tb testing.TB, baseline int) {
	tb.Helper()
	poll.Until(tb, time.Minute, "goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })
}
