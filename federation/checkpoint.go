package federation

import (
	"context"
	"time"

	"github.com/difronte/difronte/federation/topics"
)

// Checkpoints. Peers raise their mark for this node's log only when what
// they hold matches a checkpoint the node signed (federation/replica,
// checkpoint.go), so the node appends one after its own changes and
// gossips it on its own topic. Not after every change: a checkpoint hashes
// the node's whole log, so a burst of publishes (an import, the start-up
// republish) gets one checkpoint once it has been quiet for
// checkpointQuiet, or every checkpointMaxWait while it goes on. A node
// that stops before then checkpoints with its next publish; until then
// peers' marks for it advance by contiguity only.
const (
	checkpointQuiet   = time.Second
	checkpointMaxWait = 10 * time.Second
)

// kickCheckpoint notes that the node's own log changed.
func (f *Federation) kickCheckpoint() {
	select {
	case f.cpKick <- struct{}{}:
	default:
	}
}

// checkpointLoop appends and publishes a checkpoint after each burst of
// own changes.
func (f *Federation) checkpointLoop() {
	defer f.wg.Done()
	quiet := f.cfg.Clock.NewTimer(time.Hour)
	quiet.Stop()
	var first time.Time // first change not yet checkpointed; zero if none
	for {
		select {
		case <-f.ctx.Done():
			quiet.Stop()
			return
		case <-f.cpKick:
			now := f.cfg.Clock.Now()
			if first.IsZero() {
				first = now
			}
			quiet.Reset(min(checkpointQuiet, max(0, first.Add(checkpointMaxWait).Sub(now))))
		case <-quiet.C():
			first = time.Time{}
			f.checkpoint(f.ctx)
		}
	}
}

func (f *Federation) checkpoint(ctx context.Context) {
	e, err := f.rep.Checkpoint(ctx, f.cfg.Key, f.cfg.Clock.Now())
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("checkpoint failed", "err", err)
		}
		return
	}
	if e == nil {
		return
	}
	t := f.topics[topics.Checkpoints]
	if t == nil {
		return // peers take it from catch-up
	}
	if err := f.send(ctx, t, e.Marshal()); err != nil && ctx.Err() == nil {
		f.log.Debug("checkpoint not gossiped; peers take it from catch-up", "seq", e.Seq, "err", err)
	}
}
