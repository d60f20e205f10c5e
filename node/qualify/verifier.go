package qualify

import (
	"crypto/sha256"
	"sync"

	"github.com/difronte/difronte/schema"
)

// Checked is the time-independent verdict on a token.
type Checked struct {
	Q   *schema.Qualification
	Key *schema.AuthorityKey
	Err error
}

// Verifier caches the time-independent verification of qualification
// tokens (form, trusted kid, signature, shape, territory) by the SHA-256 of
// the token: a node re-evaluates the same credentials each time an
// offering, a status list or the clock changes, and a hash costs a few
// microseconds where parse and verify cost about a hundred. The cache is
// bound to one trust set; a new trust set gets a new Verifier.
type Verifier struct {
	ts  *schema.TrustSet
	max int

	mu    sync.RWMutex
	cache map[[32]byte]Checked
}

// DefaultCacheSize bounds the cache: far more credentials than a
// federation of hundreds of coops holds.
const DefaultCacheSize = 100_000

// NewVerifier returns a verifier for ts; max <= 0 means DefaultCacheSize.
func NewVerifier(ts *schema.TrustSet, max int) *Verifier {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &Verifier{ts: ts, max: max, cache: map[[32]byte]Checked{}}
}

// Check returns the cached or fresh verdict on token. Refusals are cached
// too: a refused token stays refused under the same trust set.
func (v *Verifier) Check(token string) Checked {
	h := sha256.Sum256([]byte(token))
	v.mu.RLock()
	c, ok := v.cache[h]
	v.mu.RUnlock()
	if ok {
		return c
	}
	q, k, err := v.ts.CheckQualification(token)
	c = Checked{Q: q, Key: k, Err: err}
	v.mu.Lock()
	if len(v.cache) >= v.max {
		clear(v.cache) // crude but bounded; refilling costs one verify per token
	}
	v.cache[h] = c
	v.mu.Unlock()
	return c
}
