package search

import (
	"context"
	"runtime"
)

// A search is CPU and scratch memory (bitmaps, counts, the answer) for a
// millisecond or so, and the route is public: a burst of a hundred
// citizens' searches, if all ran at once, would hold a hundred searches'
// scratch memory on a node that must live in 256 MB, and share the cores
// among all of them so that every one finishes late. So searches run at
// most MaxSearches at a time (default: as many as the cores Go uses), the
// others wait their turn in arrival order (a channel's waiting senders are
// served first come, first served). Nothing is refused: a search waits, or
// its client gives up (its context ends and it leaves the queue).
//
// One search less than the cores, to keep a core for the care loop, was
// measured too (session 8, docs/BENCHMARKS.md): the p50 of the text kinds
// rose by a third with 8 clients and the p99 did not fall, and Go already
// preempts a search for the care loop's goroutines.

// defaultSearches is how many searches run at once by default.
func defaultSearches() int { return max(1, runtime.GOMAXPROCS(0)) }

// enter waits for a turn to search, or for ctx to end. The caller calls
// the returned leave when its search is done.
func (c *Catalogue) enter(ctx context.Context) (leave func(), err error) {
	c.gateOnce.Do(func() {
		n := c.MaxSearches
		if n <= 0 {
			n = defaultSearches()
		}
		c.gate = make(chan struct{}, n)
	})
	select {
	case c.gate <- struct{}{}:
		return func() { <-c.gate }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
