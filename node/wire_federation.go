package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/catchup"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/members"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/search"
)

// openFederation starts the libp2p host and the replica, then the
// catalogue view and its search index over the replica: everything that
// reads only the federation's own records, so it can run beside the
// loading of the private registry.
func (n *Node) openFederation(ctx context.Context) error {
	f, err := federation.New(federation.Config{
		Key:       n.key,
		Listen:    n.cfg.P2PListen,
		Bootstrap: n.cfg.Bootstrap,
		Announce:  n.cfg.Announce,
		Datastore: n.store.Namespace("/fed"),
		Logger:    n.log,
		Clock:     n.cfg.Clock,
		Metrics:   n.metrics,
		Host:      n.cfg.P2PHost,
		// Port mapping and hole punching make no sense for a node that
		// only listens on loopback (tests, testnets), and would send
		// multicast discovery to the local network.
		NoNAT: onlyLoopback(n.cfg.P2PListen),
	})
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	if err := f.Start(ctx); err != nil {
		return fmt.Errorf("start federation: %w", err)
	}
	view, err := openCatalogueView(ctx, f.Replica(), n.searchDir(), n.log, n.cfg.Clock)
	if err != nil {
		return errors.Join(err, f.Close())
	}
	// Added after the view so that it closes first: gossip and catch-up
	// stop feeding the view before the index is saved.
	n.lc.add("catalogue view", view.Close)
	n.lc.add("federation", f.Close)
	n.fed, n.view = f, view
	return nil
}

// searchDir is where the search index lives: DataDir/search, or memory
// ("") when the store is injected (tests).
func (n *Node) searchDir() string {
	if n.cfg.Store != nil {
		return ""
	}
	return filepath.Join(n.cfg.DataDir, "search")
}

// joinFederation starts what needs the rest of the node: publishing own
// offerings, membership, and the background work that follows start-up.
func (n *Node) joinFederation(ctx context.Context) error {
	pub := catalogue.NewPublishing(n.own, n.fed, n.cfg.CoopName, n.log)
	n.own.SetPublisher(pub)

	ms, err := federation.NewMembership(n.fed, federation.MembershipConfig{
		Secret: n.cfg.FederationSecret, Addr: n.cfg.MembersAddr, Advertise: n.cfg.MembersAdvertise,
		Profile: n.cfg.MembersProfile, CoopName: n.cfg.CoopName, Transport: n.cfg.MembersTransport,
		RedialInterval: n.cfg.RedialInterval,
	})
	if err != nil {
		return err
	}
	n.lc.add("membership", ms.Close)
	if err := ms.Start(ctx); err != nil {
		return err
	}
	n.members = ms

	// Publish the coop profile if it changed (name), then republish own
	// offerings the log lacks (a crash between store and publish).
	if err := pub.PublishProfile(ctx); err != nil {
		// Not fatal: a coop without offerings has no territory yet.
		n.log.Debug("coop profile not published", "component", "federation", "err", err)
	}
	// Republishing reads each unpublished own offering and its replica
	// entry. Usually there are none; after an upgrade from a data
	// directory without the marks it is every offering once, seconds of
	// work with thousands, so it runs after start instead of delaying it.
	n.startupWork(func(ctx context.Context) {
		if err := pub.Republish(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("republish own offerings failed", "component", "federation", "err", err)
		}
	})
	return nil
}

// startupWork runs fn in the background, as part of the work that follows
// a start (see Settled).
func (n *Node) startupWork(fn func(ctx context.Context)) {
	n.startup.Add(1)
	n.bg.Go(func(ctx context.Context) {
		defer n.startup.Done()
		fn(ctx)
	})
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

// catalogueView is the federated side of the catalogue: the view of
// everybody's offerings in the replica, and their search index.
type catalogueView struct {
	cat *catalogue.Federated
	idx *search.Index
}

// openCatalogueView opens the view and the index over rep; the index
// lives in dir, or in memory when dir is "".
func openCatalogueView(ctx context.Context, rep *replica.Replica, dir string, log *slog.Logger, clk clock.Clock) (*catalogueView, error) {
	cat, err := catalogue.NewFederated(ctx, rep)
	if err != nil {
		return nil, err
	}
	idx, err := search.Open(ctx, search.Config{Dir: dir, Replica: rep, Logger: log, Clock: clk})
	if err != nil {
		return nil, err
	}
	return &catalogueView{cat: cat, idx: idx}, nil
}

// Close saves and closes the index.
func (v *catalogueView) Close() error { return v.idx.Close() }

// fedView is the federation's coops as the API's peers route and the web
// UI's federation page see them (catalogue.Coops).
type fedView struct {
	f    *federation.Federation
	ms   *federation.Membership
	view *catalogueView
	clk  clock.Clock
}

// Coops lists every coop this node knows: from membership (online state,
// last seen) and from the replica (publishers and their coop profiles).
func (v fedView) Coops() []catalogue.Coop {
	byID := map[string]*catalogue.Coop{}
	get := func(id string) *catalogue.Coop {
		c, ok := byID[id]
		if !ok {
			c = &catalogue.Coop{PeerID: id}
			byID[id] = c
		}
		return c
	}
	for id, name := range v.view.cat.Coops() {
		get(id).CoopName = name
	}
	for _, p := range v.f.Replica().Publishers() {
		get(p.Publisher).Records = p.Live
	}
	for _, m := range v.ms.Members() {
		c := get(m.Name)
		c.Online, c.LastSeen = m.Online, m.LastSeen
		if c.CoopName == "" {
			c.CoopName = m.Meta.CoopName
		}
		c.Addrs = m.Meta.Addrs
	}
	connected := map[string]bool{}
	for _, p := range v.f.Peers() {
		connected[p] = true
		get(p) // a connected coop that has published nothing yet is still a coop
	}
	self := get(v.f.PeerID())
	self.Self, self.Online, self.LastSeen = true, true, v.clk.Now().UTC()
	out := make([]catalogue.Coop, 0, len(byID))
	for id, c := range byID {
		if connected[id] && !c.Online {
			// A libp2p link is proof of life too (membership of a lone
			// node, or before the join completes).
			c.Online, c.LastSeen = true, v.clk.Now().UTC()
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b catalogue.Coop) int {
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
func (n *Node) Catalogue() *catalogue.Federated {
	if n.view == nil {
		return nil
	}
	return n.view.cat
}

// Federation returns the node's federation (nil without federation).
func (n *Node) Federation() *federation.Federation { return n.fed }

// SyncAll catches up with every connected peer now.
func (n *Node) SyncAll(ctx context.Context) (catchup.Stats, error) {
	if n.fed == nil {
		return catchup.Stats{}, errors.New("node runs without federation")
	}
	return n.fed.SyncAll(ctx)
}

// MembersMeta is what the node hands to membership about itself.
func (n *Node) MembersMeta() members.Meta {
	if n.members == nil {
		return members.Meta{}
	}
	return n.members.Self()
}
