package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// qual is the node's part in qualifications: the service every node runs,
// the coop side, and the authority side when the node has an authority key.
type qual struct {
	svc   *qualify.Service
	coop  *qualify.Coop
	auth  *qualify.Authority
	stop  func()
	wg    sync.WaitGroup
	ctx   context.Context
	close context.CancelFunc
}

// startQualify runs after the federation: it verifies credentials from the
// replica against this node's trust set (the --trust file plus the node's
// own authority keys), and feeds the search index.
func (n *Node) startQualify(ctx context.Context) error {
	var keys []schema.AuthorityKey
	if n.cfg.TrustFile != "" {
		ts, err := qualify.LoadTrust(n.cfg.TrustFile)
		if err != nil {
			return err
		}
		keys = ts.Keys()
	}
	var kf *qualify.KeyFile
	if n.cfg.AuthorityKeyFile != "" {
		var err error
		if kf, err = qualify.LoadKeyFile(n.cfg.AuthorityKeyFile); err != nil {
			return err
		}
		for _, k := range kf.Public(n.cfg.AuthorityName, n.cfg.AuthorityTerritory, n.peerID) {
			if !slices.ContainsFunc(keys, func(t schema.AuthorityKey) bool { return t.Kid == k.Kid }) {
				keys = append(keys, k)
			}
		}
	}
	ts, err := schema.NewTrustSet(keys)
	if err != nil {
		return fmt.Errorf("trust set: %w", err)
	}
	q := &qual{svc: qualify.NewService(ts, n.cfg.Now, n.log)}
	q.ctx, q.close = context.WithCancel(context.Background())
	n.qual = q
	n.closers = append(n.closers, q.shutdown)
	if n.fed == nil {
		return nil
	}
	if idx := n.fed.idx; idx != nil {
		q.svc.OnChange(func(p string) {
			idx.SetQualified(p, func(o schema.Offering) (string, time.Time, bool) { return q.svc.Qualified(p, o) })
		})
	}
	if err := q.svc.Attach(ctx, n.fed.f.Replica()); err != nil {
		return err
	}
	if idx := n.fed.idx; idx != nil {
		subjects := q.svc.Subjects()
		for _, p := range subjects {
			idx.SetQualified(p, func(o schema.Offering) (string, time.Time, bool) { return q.svc.Qualified(p, o) })
		}
		// The index kept the qualifications it had when the node stopped:
		// clear those revoked (or expired from the replica) meanwhile.
		for _, p := range idx.QualifiedPublishers() {
			if !slices.Contains(subjects, p) {
				idx.SetQualified(p, nil)
			}
		}
	}
	h := n.fed.f.Host()
	q.coop, err = qualify.OpenCoop(ctx, qualify.CoopConfig{
		CoopName: n.cfg.CoopName, Store: n.store.Namespace("/qualify/coop"), Audit: n.audit, Now: n.cfg.Now, Logger: n.log,
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
	// The coop polls its authorities for the state of open applications.
	q.wg.Add(1)
	go q.poll()
	if kf == nil {
		return nil
	}
	q.auth, err = qualify.OpenAuthority(ctx, qualify.AuthorityConfig{
		Keys: kf, Name: n.cfg.AuthorityName, Territory: n.cfg.AuthorityTerritory, Peer: n.peerID,
		Store: n.store.Namespace("/qualify/authority"), Audit: n.audit, Publisher: n.fed.f,
		Now: n.cfg.Now, Logger: n.log, Known: n.fed.known,
	})
	if err != nil {
		return err
	}
	if err := q.auth.Start(ctx); err != nil {
		return err
	}
	q.stop = federation.ServeApply(h, q.auth)
	return nil
}

// pollInterval is how often a coop asks its authorities for news.
const pollInterval = 10 * time.Second

func (q *qual) poll() {
	defer q.wg.Done()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-q.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(q.ctx, pollInterval)
			_, _ = q.coop.Refresh(ctx)
			cancel()
		}
	}
}

func (q *qual) shutdown() error {
	if q.stop != nil {
		q.stop()
	}
	q.close()
	q.wg.Wait()
	return nil
}

// known: a peer is known when membership lists it (online or recently
// seen), or when it published into our replica (it is a federation member
// whose records we verified).
func (fd *fed) known(p string) bool {
	if fd.m != nil {
		for _, m := range fd.m.Members() {
			if m.Name == p {
				return true
			}
		}
	}
	for _, s := range fd.f.Replica().Publishers() {
		if s.Publisher == p {
			return true
		}
	}
	return false
}

// Qualify returns the qualification service.
func (n *Node) Qualify() *qualify.Service {
	if n.qual == nil {
		return nil
	}
	return n.qual.svc
}

// Authority returns the authority side, nil on a coop node.
func (n *Node) Authority() *qualify.Authority {
	if n.qual == nil {
		return nil
	}
	return n.qual.auth
}

// Applications returns the coop side.
func (n *Node) Applications() *qualify.Coop {
	if n.qual == nil {
		return nil
	}
	return n.qual.coop
}
