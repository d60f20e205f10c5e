package members_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/testnet/poll"
)

// cluster is N nodes on a memNet.
type cluster struct {
	nodes []*members.Members
	trs   []*memTransport
}

// startCluster starts n nodes with timing from tune and joins them all
// through node 0, then waits until every node lists every other online.
func startCluster(tb testing.TB, n int, tune func(*members.Config)) *cluster {
	tb.Helper()
	net := newMemNet()
	c := &cluster{}
	for i := range n {
		tr := net.NewTransport()
		cfg := members.Config{
			Name:       nodeName(i),
			Meta:       members.Meta{CoopName: nodeName(i)},
			SecretKeys: [][]byte{key1},
			Transport:  tr,
		}
		if tune != nil {
			tune(&cfg)
		}
		m, err := members.New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, m)
		c.trs = append(c.trs, tr)
	}
	seed := c.nodes[0].LocalAddr()
	for _, m := range c.nodes[1:] {
		if _, err := m.Join([]string{seed}); err != nil {
			tb.Fatal(err)
		}
	}
	// Gossip may miss a join in a burst of 50; the push-pull exchange
	// repairs that within two of its intervals.
	i := 0 // the first node that may not see every other yet
	if !poll.Wait(3*time.Minute, 10*time.Millisecond, func() bool {
		for i < n && onlineCount(c.nodes[i]) == n {
			i++
		}
		return i == n
	}) {
		m := c.nodes[i]
		var missing []string
		for _, mem := range m.Members() {
			if !mem.Online {
				missing = append(missing, mem.Name)
			}
		}
		tb.Fatalf("no convergence after 3 minutes: node %d sees %d online, offline %v, stats %+v", i, onlineCount(m), missing, m.Stats())
	}
	return c
}

// close cuts every node off first, so that 50 graceful leaves do not
// flood the survivors, then closes them all at once.
func (c *cluster) close() {
	for _, tr := range c.trs {
		tr.Kill()
	}
	var wg sync.WaitGroup
	for _, m := range c.nodes {
		wg.Go(func() { m.Close() })
	}
	wg.Wait()
}

// measureDetection kills node victim and returns how long it takes until
// every other node lists it offline, and how many false alarms were
// raised meanwhile (suspicions of live nodes).
func (c *cluster) measureDetection(tb testing.TB, victim int, limit time.Duration) (time.Duration, int) {
	tb.Helper()
	name := nodeName(victim)
	start := time.Now()
	c.trs[victim].Kill()
	var worst time.Duration
	for i, m := range c.nodes {
		if i == victim {
			continue
		}
		poll.Until(tb, limit, "failure detection", func() bool {
			mem, ok := view(m, name)
			return ok && !mem.Online
		})
		mem, _ := view(m, name)
		worst = max(worst, mem.LastSeen.Sub(start))
	}
	return worst, c.falseAlarms(victim).suspicions
}

type alarms struct {
	// suspicions of live nodes, plus refutations by live nodes.
	suspicions int
	// deaths counts (observer, live node) pairs where the observer lists
	// a live node offline: a false alarm that reached the UI.
	deaths int
}

// falseAlarms counts alarms about nodes other than victim (-1 for none),
// seen by nodes other than victim: a node cut off suspects everyone,
// rightly.
func (c *cluster) falseAlarms(victim int) alarms {
	var a alarms
	for i, m := range c.nodes {
		if i == victim {
			continue
		}
		for _, mem := range m.Members() {
			if mem.Name == nodeName(victim) {
				continue
			}
			a.suspicions += mem.Suspicions
			if !mem.Online {
				a.deaths++
			}
		}
		a.suspicions += m.Stats().Refuted
	}
	return a
}

// TestFailureDetection checks the tuned LAN profile's goal in virtual
// time: every node sees a crashed node offline within 3 s, and nobody
// suspects a live node, neither in a stable period nor meanwhile.
func TestFailureDetection(t *testing.T) {
	for _, tt := range []struct {
		n      int
		stable time.Duration
	}{
		// 5 probes a second per node: 10 s probes every node 50 times
		// at N=10, 5 s every node 25 times at N=50.
		{10, 10 * time.Second},
		{50, 5 * time.Second},
	} {
		n := tt.n
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := wallNow()
				c := startCluster(t, n, nil)
				t.Logf("converged: wall %s", wallSince(w))
				defer func() {
					c.close()
					// memberlist does not wait for its probe goroutines,
					// which wait on timers of up to the probe interval
					// scaled by the health multiplier: let them end.
					time.Sleep(time.Minute)
				}()

				// A stable period: no suspicions at all.
				time.Sleep(tt.stable)
				for _, m := range c.nodes {
					if s := m.Stats(); s.Suspected != 0 || s.Refuted != 0 {
						t.Fatalf("false alarms in a stable run: %+v", s)
					}
				}

				t.Logf("stable: wall %s", wallSince(w))
				victim := n / 2
				took, alarms := c.measureDetection(t, victim, 30*time.Second)
				t.Logf("N=%d: every node saw the crash after %s, %d false alarms", n, took, alarms)
				t.Logf("detected: wall %s", wallSince(w))
				if took > 3*time.Second {
					t.Errorf("detection took %s, want ≤ 3s", took)
				}
				if alarms != 0 {
					t.Errorf("%d false alarms", alarms)
				}
				// The suspicion counter relies on memberlist's log text:
				// if it stops matching, this notices.
				suspicions := 0
				for _, m := range c.nodes {
					mem, _ := view(m, nodeName(victim))
					suspicions += mem.Suspicions
				}
				if suspicions == 0 {
					t.Error("no suspicion of the crashed node was counted: memberlist's log text changed?")
				}
			})
		})
	}
}

// TestOfflineHistory: departed nodes stay listed offline, the most recent
// MaxOffline of them.
func TestOfflineHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mn := newMemNet()
		var nodes []*members.Members
		for i := range 5 {
			m, err := members.New(members.Config{Name: nodeName(i), SecretKeys: [][]byte{key1}, Transport: mn.NewTransport(), MaxOffline: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				if _, err := m.Join([]string{nodes[0].LocalAddr()}); err != nil {
					t.Fatal(err)
				}
			}
			nodes = append(nodes, m)
		}
		seed := nodes[0]
		poll.Until(t, time.Minute, "convergence", func() bool { return onlineCount(seed) == 5 })
		for i := 1; i < 5; i++ {
			nodes[i].Close()
			poll.Until(t, time.Minute, "leave", func() bool { return onlineCount(seed) == 5-i })
			time.Sleep(time.Second)
		}
		var names []string
		for _, m := range seed.Members() {
			names = append(names, fmt.Sprintf("%s:%v", m.Name, m.Online))
		}
		want := "[node-000:true node-003:false node-004:false]"
		if fmt.Sprint(names) != want {
			t.Fatalf("seed lists %v, want %s", names, want)
		}
		seed.Close()
		time.Sleep(time.Minute)
	})
}
