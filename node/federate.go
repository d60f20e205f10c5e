package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/catchup"
	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

// fed is the node's part in the federation: the libp2p side (replica,
// gossip, catch-up), membership, and the catalogue view of the replica.
type fed struct {
	n   *Node
	f   *federation.Federation
	m   *members.Members
	cat *catalog.Catalogue
	idx *search.Index

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	joined map[peer.ID]bool

	// pubMu orders publishes of own offerings: admin edits and the
	// republish after start.
	pubMu sync.Mutex
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

// openFederation starts the libp2p host, the replica, the catalogue view
// and the search index: everything that reads only the federation's own
// records, so it can run beside the loading of the private registry.
func (n *Node) openFederation(ctx context.Context) error {
	f, err := federation.New(federation.Config{
		Key:       n.key,
		Listen:    n.cfg.P2PListen,
		Bootstrap: n.cfg.Bootstrap,
		Announce:  n.cfg.Announce,
		Datastore: n.store.Namespace("/fed"),
		Logger:    n.log,
		Now:       n.cfg.Now,
		Host:      n.cfg.P2PHost,
		// Port mapping and hole punching make no sense for a node that
		// only listens on loopback (tests, testnets), and would send
		// multicast discovery to the local network.
		NoNAT: onlyLoopback(n.cfg.P2PListen),
	})
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	fd := &fed{n: n, f: f, joined: map[peer.ID]bool{}}
	fd.ctx, fd.cancel = context.WithCancel(context.Background())
	n.fed = fd
	n.closers = append(n.closers, fd.close)
	if err := f.Start(ctx); err != nil {
		return fmt.Errorf("start federation: %w", err)
	}
	fd.cat, err = catalog.OpenCatalogue(ctx, f.Replica())
	if err != nil {
		return err
	}
	return fd.openSearch(ctx)
}

// joinFederation starts what needs the rest of the node: publishing own
// offerings, membership, and the background work that follows start-up.
func (n *Node) joinFederation(ctx context.Context) error {
	fd := n.fed
	f := fd.f
	// The node serves while the catalogue view reads the offerings; it
	// starts only now so that it does not compete with the loads above
	// for the CPU.
	fd.wg.Add(1)
	n.startup.Add(1)
	go func() {
		defer fd.wg.Done()
		defer n.startup.Done()
		if err := fd.cat.Load(fd.ctx); err != nil && fd.ctx.Err() == nil {
			n.log.Warn("catalogue view not loaded", "component", "federation", "err", err)
		}
	}()
	n.own.SetPublisher(fd)

	host, port := "0.0.0.0", 0
	if n.cfg.MembersAddr != "" {
		h, p, err := net.SplitHostPort(n.cfg.MembersAddr)
		if err != nil {
			return fmt.Errorf("members address %q: %w", n.cfg.MembersAddr, err)
		}
		host = h
		if port, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("members address %q: %w", n.cfg.MembersAddr, err)
		}
	}
	profile := members.ProfileWAN
	if n.cfg.MembersProfile != "" {
		profile = members.Profile(n.cfg.MembersProfile)
	}
	m, err := members.New(members.Config{
		Name:          n.peerID,
		Meta:          members.Meta{CoopName: n.cfg.CoopName, Addrs: fd.shortAddrs()},
		BindAddr:      host,
		BindPort:      port,
		AdvertiseAddr: n.cfg.MembersAdvertise,
		SecretKeys:    [][]byte{membersSecret(n.cfg.FederationSecret, n.key.Seed())},
		Logger:        n.log,
		Now:           n.cfg.Now,
		Transport:     n.cfg.MembersTransport,
		Profile:       profile,
	})
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	if err := m.Start(ctx); err != nil {
		return fmt.Errorf("start membership: %w", err)
	}
	fd.m = m
	federation.ServeMembersAddr(f.Host(), m.LocalAddr)

	// Publish the coop profile if it changed (name), then republish own
	// offerings the log lacks (a crash between store and publish).
	if err := fd.publishProfile(ctx); err != nil {
		// Not fatal: a coop without offerings has no territory yet.
		n.log.Debug("coop profile not published", "component", "federation", "err", err)
	}
	// Republishing reads each unpublished own offering and its replica
	// entry. Usually there are none; after an upgrade from a data
	// directory without the marks it is every offering once, seconds of
	// work with thousands, so it runs after start instead of delaying it.
	fd.wg.Add(1)
	n.startup.Add(1)
	go func() {
		defer fd.wg.Done()
		defer n.startup.Done()
		if err := fd.republish(fd.ctx); err != nil && fd.ctx.Err() == nil {
			n.log.Warn("republish own offerings failed", "component", "federation", "err", err)
		}
	}()

	sub, err := f.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	fd.wg.Add(2)
	go fd.joinLoop(sub)
	go fd.redialLoop()
	for _, p := range f.Host().Network().Peers() {
		fd.wg.Add(1)
		go fd.join(p)
	}
	return nil
}

// shortAddrs are the node's libp2p addresses without the /p2p suffix.
func (fd *fed) shortAddrs() []string {
	var out []string
	for _, a := range fd.f.Host().Addrs() {
		out = append(out, a.String())
	}
	return out
}

func (fd *fed) joinLoop(sub event.Subscription) {
	defer fd.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-fd.ctx.Done():
			return
		case ev, ok := <-sub.Out():
			if !ok {
				return
			}
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness == network.Connected {
				fd.wg.Add(1)
				go fd.join(e.Peer)
			}
		}
	}
}

// join asks a newly connected peer for its membership address and joins
// through it, once per peer while it is a member.
func (fd *fed) join(p peer.ID) {
	defer fd.wg.Done()
	if fd.n.cfg.FederationSecret == "" {
		return // membership of a lone node: nobody else holds our key
	}
	fd.mu.Lock()
	if fd.joined[p] {
		fd.mu.Unlock()
		return
	}
	fd.joined[p] = true
	fd.mu.Unlock()
	for _, m := range fd.m.Members() {
		if m.Name == p.String() && m.Online {
			return
		}
	}
	addr, err := federation.FetchMembersAddr(fd.ctx, fd.f.Host(), p)
	if err == nil {
		_, err = fd.m.Join([]string{addr})
	}
	if err != nil {
		fd.mu.Lock()
		delete(fd.joined, p)
		fd.mu.Unlock()
		fd.n.log.Debug("membership join failed", "component", "members", "peer", p.String(), "err", err)
	}
}

// profile is the coop's public profile: its name, and the territory and
// contact of its live offerings (a coop works where it offers services).
// It is not valid, and not published, until the coop has an offering.
func (fd *fed) profile() schema.CoopProfile {
	p := schema.CoopProfile{Name: fd.n.cfg.CoopName, Kind: schema.KindCommunityCoop, Territory: []string{}}
	seen := map[string]bool{}
	// Each, not All: the profile is rebuilt at every publish, and copying
	// every offering each time made loading 20,000 offerings quadratic.
	fd.n.own.Each(func(o *catalog.Offering) {
		if o.Archived {
			return
		}
		for _, a := range o.Areas {
			if !seen[a] && len(p.Territory) < schema.MaxTerritory {
				seen[a] = true
				p.Territory = append(p.Territory, a)
			}
		}
		if p.Contact.Email == "" && p.Contact.Phone == "" && p.Contact.URL == "" {
			p.Contact.Email, p.Contact.Phone, p.Contact.URL = o.Contact.Email, o.Contact.Phone, o.Contact.URL
		}
	})
	slices.Sort(p.Territory)
	return p
}

func (fd *fed) publishProfile(ctx context.Context) error {
	p := fd.profile()
	if err := p.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if e, err := fd.f.Replica().Get(ctx, fd.n.peerID, schema.KindCoop, "profile"); err == nil && !e.Tombstone && string(e.Body) == string(body) {
		return nil
	}
	if _, err := fd.f.Publish(ctx, schema.KindCoop, "profile", body); err != nil {
		return fmt.Errorf("publish coop profile: %w", err)
	}
	return nil
}

// republish sends the federation the own offerings whose last change it
// may lack (catalog.Own.Unpublished): a crash between storing and
// publishing, or changes made while the node ran without its federation.
func (fd *fed) republish(ctx context.Context) error {
	ids, err := fd.n.own.Unpublished(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fd.republishOne(ctx, id); err != nil {
			return fmt.Errorf("republish offering %s: %w", id, err)
		}
		if err := fd.n.own.Published(ctx, id); err != nil {
			return err
		}
	}
	return fd.n.own.MarksComplete(ctx)
}

// republishOne publishes the stored state of one own offering if the log
// lacks it. It holds pubMu and reads the offering under it, so it never
// overwrites a newer edit that an admin saved meanwhile with an older copy.
func (fd *fed) republishOne(ctx context.Context, id string) error {
	fd.pubMu.Lock()
	defer fd.pubMu.Unlock()
	o, ok := fd.n.own.Lookup(id)
	if !ok {
		return nil
	}
	e, err := fd.f.Replica().Get(ctx, fd.n.peerID, schema.KindOffering, o.ID)
	switch {
	case err != nil && !o.Archived:
		return fd.publishLocked(ctx, o.Offering)
	case err == nil && o.Archived && !e.Tombstone:
		return fd.withdrawLocked(ctx, o.ID)
	case err == nil && !o.Archived:
		body, _ := json.Marshal(o.Offering)
		if e.Tombstone || string(body) != string(e.Body) {
			return fd.publishLocked(ctx, o.Offering)
		}
	}
	return nil
}

// PublishOffering signs and publishes an offering (catalog.Publisher).
func (fd *fed) PublishOffering(ctx context.Context, o schema.Offering) error {
	fd.pubMu.Lock()
	defer fd.pubMu.Unlock()
	return fd.publishLocked(ctx, o)
}

func (fd *fed) publishLocked(ctx context.Context, o schema.Offering) error {
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if _, err = fd.f.Publish(ctx, schema.KindOffering, o.ID, body); err != nil {
		return err
	}
	return fd.publishProfileQuietly(ctx)
}

// publishProfileQuietly keeps the profile in step with the offerings.
func (fd *fed) publishProfileQuietly(ctx context.Context) error {
	if err := fd.publishProfile(ctx); err != nil {
		fd.n.log.Debug("coop profile not published", "component", "federation", "err", err)
	}
	return nil
}

// WithdrawOffering publishes an offering's tombstone (catalog.Publisher).
func (fd *fed) WithdrawOffering(ctx context.Context, id string) error {
	fd.pubMu.Lock()
	defer fd.pubMu.Unlock()
	return fd.withdrawLocked(ctx, id)
}

func (fd *fed) withdrawLocked(ctx context.Context, id string) error {
	if _, err := fd.f.Withdraw(ctx, schema.KindOffering, id); err != nil {
		return err
	}
	return fd.publishProfileQuietly(ctx)
}

func (fd *fed) close() error {
	fd.cancel()
	var err error
	if fd.m != nil {
		err = fd.m.Close()
	}
	if cerr := fd.f.Close(); err == nil {
		err = cerr
	}
	if fd.idx != nil {
		if cerr := fd.idx.Close(); err == nil {
			err = cerr
		}
	}
	done := make(chan struct{})
	go func() { fd.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	return err
}

// openSearch opens the search index of the catalogue: on disk in
// DataDir/search, or in memory when the store is injected (tests).
func (fd *fed) openSearch(ctx context.Context) error {
	dir := ""
	if fd.n.cfg.Store == nil {
		dir = filepath.Join(fd.n.cfg.DataDir, "search")
	}
	idx, err := search.Open(ctx, search.Config{Dir: dir, Replica: fd.f.Replica(), Logger: fd.n.log, Now: fd.n.cfg.Now})
	if err != nil {
		return err
	}
	fd.idx = idx
	return nil
}

// Replica is the verified replica of the federation.
func (fd *fed) Replica() *replica.Replica { return fd.f.Replica() }

// Search is the search index of the federated catalogue.
func (fd *fed) Search() *search.Index { return fd.idx }

// Catalogue is the federated catalogue view.
func (fd *fed) Catalogue() *catalog.Catalogue { return fd.cat }

// Coops lists every coop this node knows: from membership (online state,
// last seen) and from the replica (publishers and their coop profiles).
func (fd *fed) Coops() []catalog.Coop {
	byID := map[string]*catalog.Coop{}
	get := func(id string) *catalog.Coop {
		c, ok := byID[id]
		if !ok {
			c = &catalog.Coop{PeerID: id}
			byID[id] = c
		}
		return c
	}
	for id, name := range fd.cat.Coops() {
		get(id).CoopName = name
	}
	for _, p := range fd.f.Replica().Publishers() {
		get(p.Publisher).Records = p.Live
	}
	if fd.m != nil {
		for _, m := range fd.m.Members() {
			c := get(m.Name)
			c.Online, c.LastSeen = m.Online, m.LastSeen
			if c.CoopName == "" {
				c.CoopName = m.Meta.CoopName
			}
			c.Addrs = m.Meta.Addrs
		}
	}
	connected := map[string]bool{}
	for _, p := range fd.f.Peers() {
		connected[p] = true
		get(p) // a connected coop that has published nothing yet is still a coop
	}
	self := get(fd.n.peerID)
	self.Self, self.Online, self.LastSeen = true, true, fd.n.cfg.Now().UTC()
	out := make([]catalog.Coop, 0, len(byID))
	for id, c := range byID {
		if connected[id] && !c.Online {
			// A libp2p link is proof of life too (membership of a lone
			// node, or before the join completes).
			c.Online, c.LastSeen = true, fd.n.cfg.Now().UTC()
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b catalog.Coop) int {
		if a.Self != b.Self {
			if a.Self {
				return -1
			}
			return 1
		}
		return strings.Compare(a.CoopName+a.PeerID, b.CoopName+b.PeerID)
	})
	return out
}

// Catalogue returns the federated catalogue view (nil without federation).
func (n *Node) Catalogue() *catalog.Catalogue {
	if n.fed == nil {
		return nil
	}
	return n.fed.cat
}

// Federation returns the node's federation (nil without federation).
func (n *Node) Federation() *federation.Federation {
	if n.fed == nil {
		return nil
	}
	return n.fed.f
}

// SyncAll catches up with every connected peer now.
func (n *Node) SyncAll(ctx context.Context) (catchup.Stats, error) {
	if n.fed == nil {
		return catchup.Stats{}, errors.New("node runs without federation")
	}
	return n.fed.f.SyncAll(ctx)
}

// MembersMeta is what the node hands to membership about itself.
func (n *Node) MembersMeta() members.Meta {
	if n.fed == nil || n.fed.m == nil {
		return members.Meta{}
	}
	for _, m := range n.fed.m.Members() {
		if m.Name == n.peerID {
			return m.Meta
		}
	}
	return members.Meta{}
}

// onlyLoopback reports whether every listen multiaddr is on loopback.
func onlyLoopback(addrs []string) bool {
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "/ip4/127.") && !strings.HasPrefix(a, "/ip6/::1/") {
			return false
		}
	}
	return true
}

// redialInterval is how often a node dials the federation peers it should
// be connected to and is not: its bootstrap peers, and coops that
// membership sees online. Without it a coop that restarted without
// bootstrap peers of its own stays alone until someone else dials it.
// Config.RedialInterval overrides it.
const redialInterval = 30 * time.Second

func (fd *fed) redialLoop() {
	defer fd.wg.Done()
	every := fd.n.cfg.RedialInterval
	if every <= 0 {
		every = redialInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-fd.ctx.Done():
			return
		case <-t.C:
			fd.redial()
		}
	}
}

func (fd *fed) redial() {
	connected := map[string]bool{fd.n.peerID: true}
	for _, p := range fd.f.Peers() {
		connected[p] = true
	}
	targets := map[string][]string{}
	for _, a := range fd.n.cfg.Bootstrap {
		if ai, err := peer.AddrInfoFromString(a); err == nil {
			targets[ai.ID.String()] = append(targets[ai.ID.String()], a)
		}
	}
	if fd.m != nil {
		for _, m := range fd.m.Members() {
			if !m.Online {
				continue
			}
			for _, a := range m.Meta.Addrs {
				targets[m.Name] = append(targets[m.Name], a+"/p2p/"+m.Name)
			}
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
				ctx, cancel := context.WithTimeout(fd.ctx, 10*time.Second)
				err := fd.f.Connect(ctx, a)
				cancel()
				if err == nil {
					return
				}
				fd.n.log.Debug("redial failed", "component", "federation", "peer", id, "err", err)
			}
		}()
	}
	wg.Wait()
}

// redialParallel bounds the dials of one redial round.
const redialParallel = 8
