package federation

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/members"
)

// MembershipConfig configures a Membership. The zero value of every field
// is the production default.
type MembershipConfig struct {
	// Secret is the passphrase shared by the federation's nodes; it keys
	// membership (memberlist) traffic. Empty: membership is this node
	// alone, and peers still exchange data over libp2p.
	Secret string
	// Addr is the memberlist bind host:port (default 0.0.0.0:0).
	Addr string
	// Advertise is the memberlist address others reach (default: the
	// bound one).
	Advertise string
	// Profile is "wan" (default: coops on home internet links) or "lan".
	Profile string
	// CoopName goes into the node's membership metadata.
	CoopName string
	// Transport replaces memberlist's UDP/TCP sockets (tests).
	Transport memberlist.Transport
	// RedialInterval is how often the node dials the bootstrap peers and
	// online members it is not connected to. Default 30 s; tests shorten
	// it to watch the federation heal without waiting.
	RedialInterval time.Duration
}

// redialInterval is how often a node dials the federation peers it should
// be connected to and is not: its bootstrap peers, and coops that
// membership sees online. Without it a coop that restarted without
// bootstrap peers of its own stays alone until someone else dials it.
const redialInterval = 30 * time.Second

// redialParallel bounds the dials of one redial round.
const redialParallel = 8

// Membership follows the libp2p links with memberlist: it joins every
// newly connected peer's membership (membership follows the data links,
// since bootstrap peers are given as libp2p addresses only), answers
// MembersProtocol, and redials the bootstrap peers and online members the
// node lost.
type Membership struct {
	f    *Federation
	cfg  MembershipConfig
	log  *slog.Logger
	host string
	port int

	m      *members.Members
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	joined map[peer.ID]bool
}

// NewMembership checks cfg for f. It does no I/O.
func NewMembership(f *Federation, cfg MembershipConfig) (*Membership, error) {
	ms := &Membership{f: f, cfg: cfg, log: f.cfg.Logger, host: "0.0.0.0", joined: map[peer.ID]bool{}}
	if cfg.Addr != "" {
		h, p, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("members address %q: %w", cfg.Addr, err)
		}
		ms.host = h
		if ms.port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("members address %q: %w", cfg.Addr, err)
		}
	}
	if ms.cfg.Profile == "" {
		ms.cfg.Profile = string(members.ProfileWAN)
	}
	if ms.cfg.RedialInterval <= 0 {
		ms.cfg.RedialInterval = redialInterval
	}
	ms.ctx, ms.cancel = context.WithCancel(context.Background())
	return ms, nil
}

// membersSecret derives the memberlist key from the federation passphrase.
// Without one, the node's membership runs alone with a random key (a lone
// node is a valid federation); peers still exchange data over libp2p.
func membersSecret(pass string, key []byte) []byte {
	if pass == "" {
		h := sha256.Sum256(append([]byte("difronte/members/lone/"), key...))
		return h[:]
	}
	h := sha256.Sum256([]byte("difronte/members/v1/" + pass))
	return h[:]
}

// Start starts memberlist on the started federation's host, then joins
// the peers connected now and every peer that connects later, and starts
// the redial loop.
func (ms *Membership) Start(ctx context.Context) error {
	h := ms.f.Host()
	m, err := members.New(members.Config{
		Name:          ms.f.PeerID(),
		Meta:          members.Meta{CoopName: ms.cfg.CoopName, Addrs: ms.shortAddrs()},
		BindAddr:      ms.host,
		BindPort:      ms.port,
		AdvertiseAddr: ms.cfg.Advertise,
		SecretKeys:    [][]byte{membersSecret(ms.cfg.Secret, ms.f.cfg.Key.Seed())},
		Logger:        ms.log,
		Clock:         ms.f.cfg.Clock,
		Transport:     ms.cfg.Transport,
		Profile:       members.Profile(ms.cfg.Profile),
	})
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	if err := m.Start(ctx); err != nil {
		return fmt.Errorf("start membership: %w", err)
	}
	ms.m = m
	serveMembersAddr(h, m.LocalAddr)

	sub, err := h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	ms.wg.Add(2)
	go ms.joinLoop(sub)
	go ms.redialLoop()
	for _, p := range h.Network().Peers() {
		ms.wg.Add(1)
		go ms.join(p)
	}
	return nil
}

// shortAddrs are the node's libp2p addresses without the /p2p suffix.
func (ms *Membership) shortAddrs() []string {
	var out []string
	for _, a := range ms.f.Host().Addrs() {
		out = append(out, a.String())
	}
	return out
}

// Members lists the federation's nodes as membership sees them (nil
// before Start, or on a nil Membership).
func (ms *Membership) Members() []members.Member {
	if ms == nil || ms.m == nil {
		return nil
	}
	return ms.m.Members()
}

// Self is what the node hands to membership about itself.
func (ms *Membership) Self() members.Meta {
	self := ms.f.PeerID()
	for _, m := range ms.Members() {
		if m.Name == self {
			return m.Meta
		}
	}
	return members.Meta{}
}

// Known reports whether p is a federation member: membership lists it
// (online or recently seen), or it published into the replica (its
// records were verified).
func (ms *Membership) Known(p string) bool {
	for _, m := range ms.Members() {
		if m.Name == p {
			return true
		}
	}
	for _, s := range ms.f.Replica().Publishers() {
		if s.Publisher == p {
			return true
		}
	}
	return false
}

// Close leaves the membership and stops the loops. Closing the federation
// is the caller's, after this. It waits at most 10 s for a join or a dial
// under way.
func (ms *Membership) Close() error {
	ms.cancel()
	var err error
	if ms.m != nil {
		err = ms.m.Close()
	}
	done := make(chan struct{})
	go func() { ms.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-clock.After(ms.f.cfg.Clock, 10*time.Second):
	}
	return err
}

func (ms *Membership) joinLoop(sub event.Subscription) {
	defer ms.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-ms.ctx.Done():
			return
		case ev, ok := <-sub.Out():
			if !ok {
				return
			}
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness == network.Connected {
				ms.wg.Add(1)
				go ms.join(e.Peer)
			}
		}
	}
}

// join asks a newly connected peer for its membership address and joins
// through it, once per peer while it is a member.
func (ms *Membership) join(p peer.ID) {
	defer ms.wg.Done()
	if ms.cfg.Secret == "" {
		return // membership of a lone node: nobody else holds our key
	}
	ms.mu.Lock()
	if ms.joined[p] {
		ms.mu.Unlock()
		return
	}
	ms.joined[p] = true
	ms.mu.Unlock()
	for _, m := range ms.m.Members() {
		if m.Name == p.String() && m.Online {
			return
		}
	}
	addr, err := fetchMembersAddr(ms.ctx, ms.f.Host(), p)
	if err == nil {
		_, err = ms.m.Join([]string{addr})
	}
	if err != nil {
		ms.mu.Lock()
		delete(ms.joined, p)
		ms.mu.Unlock()
		ms.log.Debug("membership join failed", "component", "members", "peer", p.String(), "err", err)
	}
}

func (ms *Membership) redialLoop() {
	defer ms.wg.Done()
	t := ms.f.cfg.Clock.NewTicker(ms.cfg.RedialInterval)
	defer t.Stop()
	for {
		select {
		case <-ms.ctx.Done():
			return
		case <-t.C():
			ms.redial()
		}
	}
}

// redial dials the bootstrap peers and online members the node is not
// connected to.
func (ms *Membership) redial() {
	connected := map[string]bool{ms.f.PeerID(): true}
	for _, p := range ms.f.Peers() {
		connected[p] = true
	}
	targets := map[string][]string{}
	for _, a := range ms.f.cfg.Bootstrap {
		if ai, err := peer.AddrInfoFromString(a); err == nil {
			targets[ai.ID.String()] = append(targets[ai.ID.String()], a)
		}
	}
	for _, m := range ms.Members() {
		if !m.Online {
			continue
		}
		for _, a := range m.Meta.Addrs {
			targets[m.Name] = append(targets[m.Name], a+"/p2p/"+m.Name)
		}
	}
	// Peers are dialled side by side, a few at a time, so that one
	// unreachable coop (10 s per address) does not hold up the others.
	var wg sync.WaitGroup
	slots := make(chan struct{}, redialParallel)
	for id, addrs := range targets {
		if connected[id] {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			for _, a := range addrs {
				ctx, cancel := context.WithTimeout(ms.ctx, 10*time.Second)
				err := ms.f.Connect(ctx, a)
				cancel()
				if err == nil {
					return
				}
				ms.log.Debug("redial failed", "component", "federation", "peer", id, "err", err)
			}
		}()
	}
	wg.Wait()
}
