package auth

import (
	"hash/maphash"
	"math"
	"time"
)

// policy is one throttle on failed logins: free failures are let through,
// then each further one shuts the door for a delay that starts at base and
// doubles up to max; one failure is forgiven every leak, so the sustained
// rate an attacker gets is about one guess per leak.
type policy struct {
	free      int
	leak      time.Duration
	base, max time.Duration
}

// delay is how long to refuse after the nth failure. A failure counts
// whole until it is wholly forgiven, so that the time between quick
// attempts does not let the count slip under a threshold.
func (p policy) delay(n float64) time.Duration {
	over := int(math.Ceil(n-1e-6)) - p.free
	switch {
	case over < 0:
		return 0
	case over >= 30:
		return p.max
	}
	return min(p.base<<over, p.max)
}

// bucket counts the failures of one key, less those forgiven since.
type bucket struct {
	n     float64 // failures as of at
	at    int64   // unix nanoseconds
	until int64   // refused until, unix nanoseconds
}

// level is the count at now, after forgiving. A clock set back forgives
// nothing.
func (b bucket) level(p policy, now int64) float64 {
	return max(0, b.n-float64(max(0, now-b.at))/float64(p.leak))
}

// fail records that the count is n at now.
func (b *bucket) fail(p policy, now int64, n float64) {
	b.n = max(b.level(p, now), n)
	b.at = now
	b.until = max(b.until, now+int64(p.delay(n)))
}

// Sketch sizes: depth rows of width buckets, 1.5 MiB a sketch once used.
const (
	sketchDepth = 4
	sketchWidth = 1 << 14
)

// sketch is a count-min sketch of buckets: fixed memory whatever the number
// of keys, where keys that share a bucket add up. A key's count and refusal
// time are the least of its buckets', so a crowded sketch can only
// overestimate them: under a flood of keys it refuses more, never less.
type sketch struct {
	p     policy
	width int
	seed  maphash.Seed
	rows  [][]bucket // allocated on the first failure
}

func newSketch(p policy, width int) sketch {
	return sketch{p: p, width: width, seed: maphash.MakeSeed()}
}

// cells returns the bucket of key in every row. The seed is secret, so
// nobody can choose keys that land on someone else's buckets.
func (s *sketch) cells(key string) [sketchDepth]*bucket {
	h := maphash.String(s.seed, key)
	h1, h2 := h, h>>32|1
	var out [sketchDepth]*bucket
	for i, row := range s.rows {
		out[i] = &row[(h1+uint64(i)*h2)%uint64(s.width)]
	}
	return out
}

// until is when key may try again, in unix nanoseconds.
func (s *sketch) until(key string) int64 {
	if s.rows == nil {
		return 0
	}
	u := int64(math.MaxInt64)
	for _, b := range s.cells(key) {
		u = min(u, b.until)
	}
	return u
}

// fail counts a failure of key at now. Only the buckets at the key's
// estimate are raised (conservative update), which keeps every bucket at
// or above the true count of each key in it.
func (s *sketch) fail(key string, now int64) {
	if s.rows == nil {
		s.rows = make([][]bucket, sketchDepth)
		for i := range s.rows {
			s.rows[i] = make([]bucket, s.width)
		}
	}
	cells := s.cells(key)
	est := math.Inf(1)
	for _, b := range cells {
		est = min(est, b.level(s.p, now))
	}
	for _, b := range cells {
		b.fail(s.p, now, est+1)
	}
}
