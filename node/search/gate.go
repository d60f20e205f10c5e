package search

import (
	"context"
	"runtime"
)

// A node on an old two-core PC answers citizens' searches beside the care
// loop it exists for: the terminals' calls, check-in schedules, alerts,
// gossip. A search is pure CPU for a millisecond or so, and a burst of
// them, if all ran at once, would take every core. So searches run at most
// MaxSearches at a time (default: one less than the cores Go uses, at
// least one), the others wait their turn in arrival order (a channel's
// waiting senders are served first come, first served), and at least one
// core stays for the rest of the node. It is a bulkhead, not a limit on
// what a client may ask: nothing is refused, a search waits or its
// client gives up (its context ends and it leaves the queue).

// defaultSearches is how many searches run at once by default.
func defaultSearches() int { return max(1, runtime.GOMAXPROCS(0)-1) }

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
