package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/catchup"
)

// watchConnections queues a catch-up with every newly connected peer.
func (f *Federation) watchConnections() {
	defer f.wg.Done()
	for {
		select {
		case <-f.ctx.Done():
			return
		case ev, ok := <-f.events.Out():
			if !ok {
				return
			}
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness != network.Connected || f.cfg.DisableCatchup {
				continue
			}
			select {
			case f.syncReq <- e.Peer:
			default:
				// Queue full: the periodic round will reach this peer.
			}
		}
	}
}

// catchupLoop runs the queued and the periodic catch-ups, one at a time:
// catch-up is a background repair, and serialising it keeps a node that
// just joined from opening a session with every peer at once.
//
// Between periodic rounds it also watches for gaps: a publisher whose
// complete-through mark stays below the highest seq we hold for it over
// two checks lost an entry on gossip (reordering settles in milliseconds).
// Then it catches up with one connected peer, in turn, backing off while
// that brings nothing (the missing seq may be superseded everywhere and
// only a peer with a complete mark can close the gap).
func (f *Federation) catchupLoop() {
	defer f.wg.Done()
	tick := f.cfg.Clock.NewTicker(f.cfg.CatchupInterval)
	defer tick.Stop()
	gapTick := f.cfg.Clock.NewTicker(gapInterval)
	defer gapTick.Stop()
	var (
		lastGaps map[string]uint64
		backoff  = 1
		skip     = 0
		turn     = 0
	)
	for {
		select {
		case <-f.ctx.Done():
			return
		case p := <-f.syncReq:
			f.syncOne(f.ctx, p)
		case <-tick.C():
			if !f.cfg.DisableCatchup {
				f.syncAll(f.ctx)
			}
		case <-gapTick.C():
			if f.cfg.DisableCatchup {
				continue
			}
			gaps := f.gaps()
			stuck := false
			for pub, mark := range gaps {
				if last, ok := lastGaps[pub]; ok && last == mark {
					stuck = true
				}
			}
			lastGaps = gaps
			if !stuck {
				backoff, skip = 1, 0
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			peers := f.host.Network().Peers()
			if len(peers) == 0 {
				continue
			}
			turn++
			st, _ := f.syncOne(f.ctx, peers[turn%len(peers)])
			if st.Entries == 0 {
				backoff = min(backoff*2, maxGapBackoff)
			} else {
				backoff = 1
			}
			skip = backoff - 1
		}
	}
}

// Gap watching: checked every gapInterval, backing off to one try every
// maxGapBackoff intervals.
const (
	gapInterval   = 2 * time.Second
	maxGapBackoff = 16
)

// gaps returns the publishers whose mark is below their highest held seq.
func (f *Federation) gaps() map[string]uint64 {
	out := map[string]uint64{}
	for _, p := range f.rep.Publishers() {
		if p.Mark < p.MaxSeq {
			out[p.Publisher] = p.Mark
		}
	}
	return out
}

func (f *Federation) syncOne(ctx context.Context, p peer.ID) (catchup.Stats, error) {
	st, err := f.cu.Sync(ctx, p)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Debug("catch-up failed", "peer", p.String(), "err", err)
		}
		return st, fmt.Errorf("catch up with %s: %w", p, err)
	}
	if st.Entries > 0 {
		f.log.Info("caught up", "peer", p.String(), "entries", st.Entries, "bytes", st.BytesReceived)
	}
	return st, nil
}

func (f *Federation) syncAll(ctx context.Context) (catchup.Stats, error) {
	var total catchup.Stats
	var errs []error
	for _, p := range f.host.Network().Peers() {
		st, err := f.syncOne(ctx, p)
		total.RoundTrips += st.RoundTrips
		total.BytesSent += st.BytesSent
		total.BytesReceived += st.BytesReceived
		total.EntryBytes += st.EntryBytes
		total.Entries += st.Entries
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// SyncAll catches up with every connected peer now and returns the summed
// statistics. Peers that do not speak the catch-up protocol (or fail) are
// reported in the joined error; the others are still synced.
func (f *Federation) SyncAll(ctx context.Context) (catchup.Stats, error) {
	if err := f.ready(); err != nil {
		return catchup.Stats{}, err
	}
	return f.syncAll(ctx)
}

// Sync catches up with one peer now.
func (f *Federation) Sync(ctx context.Context, p peer.ID) (catchup.Stats, error) {
	if err := f.ready(); err != nil {
		return catchup.Stats{}, err
	}
	return f.syncOne(ctx, p)
}
