package federation

import (
	"sync"
	"time"
)

// holdGauge scales the relay hold (topics.Tuning.RelayDelay) by what the
// node sees of its own duplicates. A constant hold is right for one load
// only: under load a hop takes longer than a quiet hold, the forward still
// leaves before a peer's IDONTWANT, and copies multiply; a hold as long as
// a loaded hop adds its length to every hop when the machine is quiet.
// Every copy a node receives after the first is one a peer sent in vain, so
// the node's duplicates per entry estimate the federation's sends per
// entry (sends ÷ (n−1) is 1 + duplicates per first copy). While more than
// holdGrowAt duplicates arrive per entry the hold grows; under holdShrinkAt
// it shrinks back towards the constant.
type holdGauge struct {
	mu     sync.Mutex
	firsts float64 // first copies, decayed by each new one
	dups   float64 // duplicates, decayed alike
	scale  float64 // the hold's multiplier, 1 to maxHoldScale
}

const (
	// holdMemory is how much of its past each first copy keeps: about
	// the last ten entries count.
	holdMemory = 0.9
	// holdGrowAt and holdShrinkAt are the duplicates per entry above
	// which the hold doubles and below which it halves. Growing from 0.6
	// keeps the sends under twice the minimum rather than at it.
	holdGrowAt, holdShrinkAt = 0.6, 0.3
	// maxHoldScale bounds the hold: 16 times the constant (160 ms for a
	// fully linked federation's 10 ms).
	maxHoldScale = 16
)

func newHoldGauge() *holdGauge { return &holdGauge{scale: 1} }

// duplicate counts a copy of an entry already received (pubsub's
// DuplicateMessage).
func (g *holdGauge) duplicate() {
	g.mu.Lock()
	g.dups++
	g.mu.Unlock()
}

// first counts a first copy and returns the hold for it: base scaled by
// the duplicates seen of late.
func (g *holdGauge) first(base time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.firsts = g.firsts*holdMemory + 1
	g.dups *= holdMemory
	switch r := g.dups / g.firsts; {
	case r > holdGrowAt:
		g.scale = min(g.scale*2, maxHoldScale)
	case r < holdShrinkAt:
		g.scale = max(g.scale/2, 1)
	}
	return time.Duration(float64(base) * g.scale)
}
