package members_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/testnet/poll"
)

// TestLoopback runs three nodes on real UDP/TCP sockets on 127.0.0.1:
// join, metadata propagation, graceful leave.
func TestLoopback(t *testing.T) {
	var nodes []*members.Members
	for i := range 3 {
		m, err := members.New(members.Config{
			Name:       nodeName(i),
			Meta:       members.Meta{CoopName: "Coop " + nodeName(i), Addrs: []string{"/ip4/127.0.0.1/udp/4001/quic-v1"}, Roles: []string{"care"}},
			BindAddr:   "127.0.0.1",
			SecretKeys: [][]byte{key1},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.LocalAddr(); got != "" {
			t.Fatalf("LocalAddr before Start = %q, want empty", got)
		}
		if _, err := m.Join([]string{"127.0.0.1:1"}); err == nil {
			t.Fatal("Join before Start succeeded")
		}
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		nodes = append(nodes, m)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]

	// BindPort 0: the real port is read back.
	_, port, err := net.SplitHostPort(a.LocalAddr())
	if err != nil || port == "0" {
		t.Fatalf("LocalAddr = %q, want a bound port", a.LocalAddr())
	}

	var mu sync.Mutex
	var events []members.Member
	a.OnChange(func(m members.Member) {
		// Callbacks may call back in: they run outside memberlist's locks.
		_ = a.Members()
		_ = a.LocalAddr()
		mu.Lock()
		events = append(events, m)
		mu.Unlock()
	})

	for _, m := range []*members.Members{b, c} {
		if n, err := m.Join([]string{a.LocalAddr()}); err != nil || n != 1 {
			t.Fatalf("Join = %d, %v", n, err)
		}
	}
	for _, m := range nodes {
		poll.Until(t, 5*time.Second, "3 members online", func() bool { return onlineCount(m) == 3 })
	}
	got, _ := view(c, nodeName(1))
	if got.Meta.CoopName != "Coop node-001" || len(got.Meta.Addrs) != 1 || got.Meta.Roles[0] != "care" || got.Addr != b.LocalAddr() {
		t.Fatalf("c sees b as %+v", got)
	}

	// Metadata propagates.
	newMeta := members.Meta{CoopName: "Coop B renamed", Addrs: []string{"/ip4/10.0.0.2/tcp/4001"}, Records: 42}
	if err := b.UpdateMeta(newMeta); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*members.Members{a, c} {
		poll.Until(t, 5*time.Second, "metadata update", func() bool {
			mem, _ := view(m, nodeName(1))
			return mem.Meta.CoopName == "Coop B renamed" && mem.Meta.Records == 42 && mem.Meta.Addrs[0] == "/ip4/10.0.0.2/tcp/4001"
		})
	}

	// Graceful leave: c is listed offline with a last-seen time.
	before := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Join([]string{a.LocalAddr()}); err == nil {
		t.Fatal("Join after Close succeeded")
	}
	for _, m := range []*members.Members{a, b} {
		poll.Until(t, 5*time.Second, "c offline", func() bool {
			mem, ok := view(m, nodeName(2))
			return ok && !mem.Online
		})
		mem, _ := view(m, nodeName(2))
		if mem.LastSeen.Before(before) || mem.Meta.CoopName != "Coop node-002" {
			t.Fatalf("after leave, c seen as %+v", mem)
		}
	}

	// a's callback saw c's departure, in order after its join.
	poll.Until(t, 5*time.Second, "leave event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range events {
			if ev.Name == nodeName(2) && !ev.Online {
				return true
			}
		}
		return false
	})
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  members.Config
	}{
		{"no name", members.Config{SecretKeys: [][]byte{key1}}},
		{"no secret", members.Config{Name: "n"}},
		{"short key", members.Config{Name: "n", SecretKeys: [][]byte{key1[:16]}}},
		{"bad profile", members.Config{Name: "n", SecretKeys: [][]byte{key1}, Profile: "moon"}},
		{"timeout above interval", members.Config{Name: "n", SecretKeys: [][]byte{key1}, Timing: members.Timing{ProbeTimeout: 2 * time.Second}}},
		{"bad address", members.Config{Name: "n", SecretKeys: [][]byte{key1}, Meta: members.Meta{Addrs: []string{"not a multiaddr"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := members.New(tt.cfg); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestCloseWithoutStart(t *testing.T) {
	m, err := members.New(members.Config{Name: "n", SecretKeys: [][]byte{key1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// TestBindPortZero: with an OS-chosen port, the advertised address must
// carry the real port, also when the advertise IP is given explicitly.
func TestBindPortZero(t *testing.T) {
	tests := []struct {
		name      string
		advertise string
	}{
		{"bound IP", ""},
		{"explicit advertise IP", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := members.New(members.Config{Name: "n", BindAddr: "127.0.0.1", AdvertiseAddr: tt.advertise, SecretKeys: [][]byte{key1}})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			host, port, err := net.SplitHostPort(m.LocalAddr())
			if err != nil || host != "127.0.0.1" || port == "0" {
				t.Fatalf("LocalAddr = %q", m.LocalAddr())
			}
			self, _ := view(m, "n")
			if self.Addr != m.LocalAddr() || !self.Online {
				t.Fatalf("self = %+v, want online at %s", self, m.LocalAddr())
			}
		})
	}
}
