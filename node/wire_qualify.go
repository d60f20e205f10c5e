package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// qualifications are the node's part in qualifications: the service every
// node runs, the coop side, and the authority side when the node has an
// authority key.
type qualifications struct {
	svc  *qualify.Service
	coop *qualify.Coop
	auth *qualify.Authority
	// trust is the node's trust set and keys its authority key file (nil
	// on a coop node); vouchers use them too.
	trust *schema.TrustSet
	keys  *qualify.KeyFile
}

// startQualify runs after the federation: it verifies credentials from the
// replica against this node's trust set (the --trust file plus the node's
// own authority keys), and feeds the search index.
func (n *Node) startQualify(ctx context.Context) error {
	ts, kf, err := n.trust()
	if err != nil {
		return err
	}
	n.qual.trust, n.qual.keys = ts, kf
	svc := qualify.NewService(ts, n.cfg.Clock, n.log)
	n.qual.svc = svc
	if n.fed == nil {
		return nil
	}
	idx := n.view.idx
	svc.OnChange(func(p string) {
		idx.SetQualified(p, func(o schema.Offering) (string, time.Time, bool) { return svc.Qualified(p, o) })
	})
	if err := svc.Attach(ctx, n.fed.Replica()); err != nil {
		return err
	}
	subjects := svc.Subjects()
	for _, p := range subjects {
		idx.SetQualified(p, func(o schema.Offering) (string, time.Time, bool) { return svc.Qualified(p, o) })
	}
	// The index kept the qualifications it had when the node stopped:
	// clear those revoked (or expired from the replica) meanwhile.
	for _, p := range idx.QualifiedPublishers() {
		if !slices.Contains(subjects, p) {
			idx.SetQualified(p, nil)
		}
	}
	h := n.fed.Host()
	coop, err := qualify.OpenCoop(ctx, qualify.CoopConfig{
		CoopName: n.cfg.CoopName, Store: n.store.Namespace("/qualify/coop"), Audit: n.audit, Clock: n.cfg.Clock, Logger: n.log,
		Send: func(ctx context.Context, p string, req federation.ApplyRequest) (federation.ApplyResponse, error) {
			pid, err := peer.Decode(p)
			if err != nil {
				return federation.ApplyResponse{}, fmt.Errorf("authority peer %q: %w", p, err)
			}
			return federation.SendApply(ctx, h, pid, req)
		},
	})
	if err != nil {
		return err
	}
	n.qual.coop = coop
	// The coop polls its authorities for the state of open applications.
	n.bg.Go(func(ctx context.Context) { poll(ctx, n.cfg.Clock, coop) })
	if kf == nil {
		return nil
	}
	au, err := qualify.OpenAuthority(ctx, qualify.AuthorityConfig{
		Keys: kf, Name: n.cfg.AuthorityName, Territory: n.cfg.AuthorityTerritory, Peer: n.peerID,
		Store: n.store.Namespace("/qualify/authority"), Audit: n.audit, Publisher: n.fed,
		Clock: n.cfg.Clock, Logger: n.log, Known: n.members.Known,
	})
	if err != nil {
		return err
	}
	if err := au.Start(ctx); err != nil {
		return err
	}
	n.qual.auth = au
	stop := federation.ServeApply(h, au)
	n.lc.add("apply protocol", func() error { stop(); return nil })
	return nil
}

// trust is the node's trust set: the --trust file plus the node's own
// authority keys, with the authority key file (nil on a coop node).
func (n *Node) trust() (*schema.TrustSet, *qualify.KeyFile, error) {
	var keys []schema.AuthorityKey
	if n.cfg.TrustFile != "" {
		ts, err := qualify.LoadTrust(n.cfg.TrustFile)
		if err != nil {
			return nil, nil, err
		}
		keys = ts.Keys()
	}
	var kf *qualify.KeyFile
	if n.cfg.AuthorityKeyFile != "" {
		var err error
		if kf, err = qualify.LoadKeyFile(n.cfg.AuthorityKeyFile); err != nil {
			return nil, nil, err
		}
		for _, k := range kf.Public(n.cfg.AuthorityName, n.cfg.AuthorityTerritory, n.peerID) {
			if !slices.ContainsFunc(keys, func(t schema.AuthorityKey) bool { return t.Kid == k.Kid }) {
				keys = append(keys, k)
			}
		}
	}
	ts, err := schema.NewTrustSet(keys)
	if err != nil {
		return nil, nil, fmt.Errorf("trust set: %w", err)
	}
	return ts, kf, nil
}

// pollInterval is how often a coop asks its authorities for news.
const pollInterval = 10 * time.Second

func poll(ctx context.Context, clk clock.Clock, coop *qualify.Coop) {
	t := clk.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			pctx, cancel := context.WithTimeout(ctx, pollInterval)
			_, _ = coop.Refresh(pctx)
			cancel()
		}
	}
}

// Qualify returns the qualification service.
func (n *Node) Qualify() *qualify.Service { return n.qual.svc }

// Authority returns the authority side, nil on a coop node.
func (n *Node) Authority() *qualify.Authority { return n.qual.auth }

// Applications returns the coop side.
func (n *Node) Applications() *qualify.Coop { return n.qual.coop }
