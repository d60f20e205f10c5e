package members_test

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/testnet/poll"
)

// TestSecret checks that only holders of the federation secret join, and
// that keyrings with several keys allow rotation.
func TestSecret(t *testing.T) {
	tests := []struct {
		name         string
		seed, joiner [][]byte
		ok           bool
	}{
		{"same key", [][]byte{key1}, [][]byte{key1}, true},
		{"wrong key", [][]byte{key1}, [][]byte{key2}, false},
		{"rotation: new key added second", [][]byte{key1}, [][]byte{key1, key2}, true},
		{"rotation: new key made primary where both are known", [][]byte{key1, key2}, [][]byte{key2, key1}, true},
		{"rotation: old key dropped too early", [][]byte{key1}, [][]byte{key2, key1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := newMemNet()
				seed := startMem(t, net, "seed", tt.seed)
				joiner := startMem(t, net, "joiner", tt.joiner)
				_, err := joiner.Join([]string{seed.LocalAddr()})
				if tt.ok {
					if err != nil {
						t.Fatalf("Join: %v", err)
					}
					poll.Until(t, 10*time.Second, "join", func() bool { return onlineCount(seed) == 2 && onlineCount(joiner) == 2 })
				} else {
					if err == nil {
						t.Fatal("Join with the wrong secret succeeded")
					}
					time.Sleep(30 * time.Second)
					if _, ok := view(seed, "joiner"); ok {
						t.Fatal("seed lists a node without its secret")
					}
					if _, ok := view(joiner, "seed"); ok {
						t.Fatal("a node without the secret lists the seed")
					}
				}
				seed.Close()
				joiner.Close()
				time.Sleep(time.Minute) // let memberlist's probe timers end
			})
		})
	}
}

// TestSecretInjection uses bare memberlist nodes, with no key or a wrong
// one, to try both ways in: a join (TCP push-pull) and a UDP ping. The
// federation's nodes must ignore both.
func TestSecretInjection(t *testing.T) {
	tests := []struct {
		name string
		keys [][]byte
		// admitted is the control: with the right key the same calls
		// succeed, so the failures above are the secret's doing.
		admitted bool
	}{
		{"no key", nil, false},
		{"wrong key", [][]byte{key2}, false},
		{"right key", [][]byte{key1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mn := newMemNet()
				seed := startMem(t, mn, "seed", [][]byte{key1})
				defer func() {
					seed.Close()
					time.Sleep(time.Minute)
				}()

				tr := mn.NewTransport()
				mc := memberlist.DefaultLANConfig()
				mc.Name = "rogue"
				mc.Label = members.Label
				mc.Transport = tr
				mc.LogOutput = io.Discard
				if tt.keys != nil {
					kr, err := memberlist.NewKeyring(tt.keys, tt.keys[0])
					if err != nil {
						t.Fatal(err)
					}
					mc.Keyring = kr
				}
				rogue, err := memberlist.Create(mc)
				if err != nil {
					t.Fatal(err)
				}
				defer rogue.Shutdown()

				if _, err := rogue.Join([]string{seed.LocalAddr()}); (err == nil) != tt.admitted {
					t.Errorf("rogue join: err = %v, want admitted = %v", err, tt.admitted)
				}
				if _, err := rogue.Ping("seed", memAddr(seed.LocalAddr())); (err == nil) != tt.admitted {
					t.Errorf("rogue ping: err = %v, want admitted = %v", err, tt.admitted)
				}
				time.Sleep(10 * time.Second)
				if _, ok := view(seed, "rogue"); ok != tt.admitted {
					t.Errorf("seed lists the rogue: %v, want %v", ok, tt.admitted)
				}
				want := 1
				if tt.admitted {
					want = 2
				}
				if n := rogue.NumMembers(); n != want {
					t.Errorf("rogue sees %d members, want %d", n, want)
				}
			})
		})
	}
}

func startMem(t *testing.T, mn *memNet, name string, keys [][]byte) *members.Members {
	t.Helper()
	m, err := members.New(members.Config{Name: name, SecretKeys: keys, Transport: mn.NewTransport()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}
