package calls_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"crypto/ed25519"
	"crypto/rand"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	peer2 "github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/pion/webrtc/v4"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/calls/peer"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// loopbackPair is two nodes federated over real libp2p TCP on 127.0.0.1,
// as two coops' processes would be (the benchmarks' setting; the tests use
// an in-memory network).
func loopbackPair(tb testing.TB) *pair {
	tb.Helper()
	p := &pair{clockB: fakeclock.New(time.Now())}
	cfg := func(name string) node.Config {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		id, _ := crypto.UnmarshalEd25519PrivateKey(key)
		// A plain TCP host on 127.0.0.1: no port mapping, no relays, so
		// nothing leaves loopback.
		limits := rcmgr.DefaultLimits
		libp2p.SetDefaultServiceLimits(&limits)
		federation.AddSignalLimits(&limits)
		rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()))
		if err != nil {
			tb.Fatal(err)
		}
		h, err := libp2p.New(libp2p.Identity(id), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.ResourceManager(rm))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { h.Close() })
		return node.Config{CoopName: name, Key: key, P2PHost: h, Calls: node.CallsConfig{Signal: fedLimits()}}
	}
	ns := nodetest.Start(tb, cfg("Coop B"), cfg("Coop A"))
	p.B, p.A = ns[0], ns[1]
	bi, err := peer2.AddrInfoFromString(p.B.Info().Addrs[0])
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.A.Federation().Host().Connect(context.Background(), *bi); err != nil {
		tb.Fatal(err)
	}
	p.Caregiver, p.Token = caregiverAccount(tb, p.A, "giulia", "Giulia Bianchi")
	return p
}

// addBeneficiary adds a beneficiary with a paired terminal on B and a grant
// for A's caregiver; it returns the beneficiary id and the credential.
func (p *pair) addBeneficiary(tb testing.TB, i int) (string, string) {
	tb.Helper()
	ctx := context.Background()
	b, err := p.B.Care().CreateBeneficiary(ctx, admin, care.Beneficiary{Name: fmt.Sprintf("Persona %d", i), Address: "Via Roma 1", Municipality: "058091"})
	if err != nil {
		tb.Fatal(err)
	}
	t, err := p.B.Care().CreateTerminal(ctx, admin, care.Terminal{Label: fmt.Sprintf("T-%d", i), Model: "PC", State: "in_service", Beneficiary: b.ID})
	if err != nil {
		tb.Fatal(err)
	}
	pr, err := p.B.Calls().StartPairing(ctx, admin, t.ID, p.B.URL())
	if err != nil {
		tb.Fatal(err)
	}
	_, cred, err := p.B.Calls().Pair(ctx, pr.Code, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := p.B.Calls().IssueGrant(ctx, admin, calls.Grant{Beneficiary: b.ID, Node: p.A.PeerID(), Caregiver: p.Caregiver.ID, Expires: time.Now().Add(time.Hour)}); err != nil {
		tb.Fatal(err)
	}
	return b.ID, cred
}

func percentile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// directSetup is the baseline: two pion peers in this process with
// signaling by function call, from offer to an open data channel.
func directSetup(api *webrtc.API) (time.Duration, error) {
	start := time.Now()
	a, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return 0, err
	}
	defer a.Close()
	b, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return 0, err
	}
	defer b.Close()
	// Candidates wait for the other side's remote description, as the
	// node path's do.
	toB, toA := make(chan webrtc.ICECandidateInit, 32), make(chan webrtc.ICECandidateInit, 32)
	a.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			toB <- c.ToJSON()
		}
	})
	b.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			toA <- c.ToJSON()
		}
	})
	stop := make(chan struct{})
	defer close(stop)
	apply := func(pc *webrtc.PeerConnection, ch chan webrtc.ICECandidateInit) {
		for {
			select {
			case c := <-ch:
				_ = pc.AddICECandidate(c)
			case <-stop:
				return
			}
		}
	}
	open := make(chan struct{})
	dc, err := a.CreateDataChannel("check", nil)
	if err != nil {
		return 0, err
	}
	dc.OnOpen(func() { close(open) })
	offer, err := a.CreateOffer(nil)
	if err != nil {
		return 0, err
	}
	if err := a.SetLocalDescription(offer); err != nil {
		return 0, err
	}
	if err := b.SetRemoteDescription(offer); err != nil {
		return 0, err
	}
	go apply(b, toB)
	ans, err := b.CreateAnswer(nil)
	if err != nil {
		return 0, err
	}
	if err := b.SetLocalDescription(ans); err != nil {
		return 0, err
	}
	if err := a.SetRemoteDescription(ans); err != nil {
		return 0, err
	}
	go apply(a, toA)
	select {
	case <-open:
		return time.Since(start), nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("direct data channel never opened")
	}
}

// BenchmarkCallSetup measures "call" to an open data channel between a
// pion caregiver on node A and a pion terminal on node B (WebSocket, libp2p
// over loopback TCP, WebSocket), against two pion peers connected directly
// in the same run. Run: go test -run '^$' -bench CallSetup -benchtime 1x ./node/calls/
func BenchmarkCallSetup(b *testing.B) {
	const calls = 200
	p := loopbackPair(b)
	ben, cred := p.addBeneficiary(b, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A socket is rate limited like a person's (50 messages a second):
	// the benchmark opens fresh sockets every 20 calls, outside the timing.
	var tp, cp *peer.Peer
	var tctx context.Context
	var tcancel context.CancelFunc = func() {}
	sessions := make(chan *peer.Session, 1)
	redial := func() {
		if tp != nil {
			tcancel()
			tp.Close()
			cp.Close()
		}
		var err error
		tp, err = peer.Dial(ctx, peer.Config{URL: wsURL(p.B, "/ws/terminal"), Credential: cred, Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		tctx, tcancel = context.WithCancel(ctx)
		go answerAll(tctx, tp, sessions)
		cp, err = peer.Dial(ctx, peer.Config{URL: wsURL(p.A, "/ws/calls"), Token: p.Token, Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		poll.Until(b, 5*time.Second, "terminal online", func() bool { return p.B.Calls().Hub().Online(ben) })
	}
	defer func() {
		if tp != nil {
			tcancel()
			tp.Close()
			cp.Close()
		}
	}()
	poll.Until(b, 10*time.Second, "grant on A", func() bool { return len(p.A.Calls().HeldGrants(p.Caregiver.ID)) > 0 })
	api := peer.NewAPI(true)

	for b.Loop() {
		var viaNodes, direct []time.Duration
		for i := range calls {
			if i%20 == 0 {
				redial()
			}
			start := time.Now()
			cs, err := cp.Call(ctx, ben, p.B.PeerID())
			if err != nil {
				b.Fatalf("call %d: %v", i, err)
			}
			viaNodes = append(viaNodes, time.Since(start))
			ts := <-sessions
			cs.Hangup(ctx)
			<-ts.Ended
			ts.Close()
			poll.Until(b, 5*time.Second, "call ended on B", func() bool { return p.B.Calls().Hub().Live() == 0 })
			d, err := directSetup(api)
			if err != nil {
				b.Fatal(err)
			}
			direct = append(direct, d)
		}
		b.ReportMetric(float64(percentile(viaNodes, .5).Microseconds())/1000, "nodes-p50-ms")
		b.ReportMetric(float64(percentile(viaNodes, .99).Microseconds())/1000, "nodes-p99-ms")
		b.ReportMetric(float64(percentile(direct, .5).Microseconds())/1000, "direct-p50-ms")
		b.ReportMetric(float64(percentile(direct, .99).Microseconds())/1000, "direct-p99-ms")
		b.ReportMetric(float64((percentile(viaNodes, .99)-percentile(direct, .99)).Microseconds())/1000, "p99-over-direct-ms")
	}
}

// BenchmarkSignalLoad: node A relays 200 concurrent call setups of its
// caregiver to 200 terminals of node B; every one must connect.
// Run: go test -run '^$' -bench SignalLoad -benchtime 1x ./node/calls/
func BenchmarkSignalLoad(b *testing.B) {
	const n = 200
	p := loopbackPair(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bens := make([]string, n)
	var terms []*peer.Peer
	defer func() {
		for _, t := range terms {
			t.Close()
		}
	}()
	for i := range n {
		ben, cred := p.addBeneficiary(b, i)
		bens[i] = ben
		tp, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.B, "/ws/terminal"), Credential: cred, Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		terms = append(terms, tp)
		go func() {
			for {
				ring, err := tp.NextRing(ctx)
				if err != nil {
					return
				}
				s, err := tp.Answer(ctx, ring)
				if err != nil {
					continue
				}
				go func() { <-s.Ended; s.Close() }()
			}
		}()
	}
	poll.Until(b, 30*time.Second, "grants on A", func() bool { return len(p.A.Calls().HeldGrants(p.Caregiver.ID)) == n })
	cps := make([]*peer.Peer, n)
	for i := range n {
		cp, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.A, "/ws/calls"), Token: p.Token, Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		cps[i] = cp
		defer cp.Close()
	}
	for b.Loop() {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			took  []time.Duration
			fails []error
		)
		start := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				cs, err := cps[i].Call(ctx, bens[i], p.B.PeerID())
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					fails = append(fails, err)
					return
				}
				took = append(took, time.Since(t0))
				cs.Hangup(ctx)
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		if len(fails) > 0 {
			b.Fatalf("%d of %d call setups failed, first: %v", len(fails), n, fails[0])
		}
		poll.Until(b, 30*time.Second, "calls ended on B", func() bool { return p.B.Calls().Hub().Live() == 0 })
		b.ReportMetric(float64(len(took)), "calls-ok")
		b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
		b.ReportMetric(float64(percentile(took, .5).Milliseconds()), "setup-p50-ms")
		b.ReportMetric(float64(percentile(took, .99).Milliseconds()), "setup-p99-ms")
	}
}
