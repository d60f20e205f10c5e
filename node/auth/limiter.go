package auth

import (
	"container/list"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
)

// Limiter throttles failed logins, following OWASP's authentication
// guidance: growing delays rather than a lockout, counted per username and
// address pair, per address and per account, in memory that cannot grow.
//
// An attempt is refused, with the time to wait, when
//   - this username from this address failed 5 times (pair), or, unless
//     this username logged in from this address in the last 30 days,
//   - this address failed 10 times, whatever the usernames (address), or
//   - this account failed 20 times, whatever the addresses (account).
//
// After those free failures each further one doubles the wait, from one
// minute up to 15 minutes (an hour for the account), and failures are
// forgiven one every 10 minutes (pair), 1 minute (address), 5 minutes
// (account). So one address cannot spray usernames, many addresses
// cannot guess one password faster than about 12 times an hour, and
// attackers cannot lock a user out of an address where they logged in
// before: only an attacker behind that very address can slow them down.
// IPv6 addresses count by /64, the block one subscriber usually holds.
type Limiter struct {
	clk clock.Clock

	mu      sync.Mutex
	pair    sketch // username and address
	addr    sketch // address
	account sketch // username
	known   known  // username and address pairs with a recent success
}

// NewLimiter returns a limiter that reads the time from clk (nil: the real
// clock).
func NewLimiter(clk clock.Clock) *Limiter {
	return newLimiter(clk, sketchWidth, maxKnown)
}

func newLimiter(clk clock.Clock, width, knownMax int) *Limiter {
	return &Limiter{
		clk:     clock.Or(clk),
		pair:    newSketch(policy{free: 5, leak: 10 * time.Minute, base: time.Minute, max: 15 * time.Minute}, width),
		addr:    newSketch(policy{free: 10, leak: time.Minute, base: time.Minute, max: 15 * time.Minute}, width),
		account: newSketch(policy{free: 20, leak: 5 * time.Minute, base: time.Minute, max: time.Hour}, width),
		known:   known{max: knownMax, ttl: 30 * 24 * time.Hour, byKey: map[string]*list.Element{}},
	}
}

// Allow returns zero when username may try to log in from remote, or how
// long to wait.
func (l *Limiter) Allow(username, remote string) time.Duration {
	user, net := strings.ToLower(username), network(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clk.Now().UnixNano()
	var until int64
	if k := l.known.get(user+"\n"+net, now); k != nil {
		until = k.pair.until
	} else {
		until = max(l.pair.until(user+"\n"+net), l.addr.until(net), l.account.until(user))
	}
	return time.Duration(max(0, until-now))
}

// Fail records a failed login.
func (l *Limiter) Fail(username, remote string) {
	user, net := strings.ToLower(username), network(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clk.Now().UnixNano()
	l.pair.fail(user+"\n"+net, now)
	l.addr.fail(net, now)
	l.account.fail(user, now)
	if k := l.known.get(user+"\n"+net, now); k != nil {
		k.pair.fail(l.pair.p, now, k.pair.level(l.pair.p, now)+1)
	}
}

// Succeed records a successful login: the pair becomes known, with a clean
// count of its own.
func (l *Limiter) Succeed(username, remote string) {
	user, net := strings.ToLower(username), network(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.known.put(user+"\n"+net, l.clk.Now().UnixNano())
}

// network is what the address throttle counts: the address, or its /64
// for IPv6.
func network(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return remote
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// maxKnown bounds the known pairs. Only a successful login adds one, and
// forgetting one only makes its pair count like any other.
const maxKnown = 10000

// known holds the pairs that logged in recently, least recent evicted
// first. A known pair counts its failures exactly, from its last success;
// the pair sketch keeps counting them too, for when the pair is forgotten.
type known struct {
	max   int
	ttl   time.Duration
	byKey map[string]*list.Element // of *knownPair
	lru   list.List                // most recent first
}

type knownPair struct {
	key  string
	at   int64 // last success, unix nanoseconds
	pair bucket
}

// get returns the pair of key if it logged in within ttl.
func (k *known) get(key string, now int64) *knownPair {
	e, ok := k.byKey[key]
	if !ok {
		return nil
	}
	p := e.Value.(*knownPair)
	if now-p.at > int64(k.ttl) {
		k.lru.Remove(e)
		delete(k.byKey, key)
		return nil
	}
	return p
}

func (k *known) put(key string, now int64) {
	if e, ok := k.byKey[key]; ok {
		*e.Value.(*knownPair) = knownPair{key: key, at: now}
		k.lru.MoveToFront(e)
		return
	}
	k.byKey[key] = k.lru.PushFront(&knownPair{key: key, at: now})
	if k.lru.Len() > k.max {
		delete(k.byKey, k.lru.Remove(k.lru.Back()).(*knownPair).key)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// RateLimitError is a login refused by the Limiter; it is an ErrRateLimited.
type RateLimitError struct {
	Wait time.Duration // until the next attempt may go ahead
}

func (e *RateLimitError) Error() string { return ErrRateLimited.Error() }

// Is makes a RateLimitError match ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter is the Retry-After header value for err: whole seconds,
// rounded up, or "" when err is not a RateLimitError.
func RetryAfter(err error) string {
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		return ""
	}
	return strconv.FormatInt(int64((rl.Wait+time.Second-1)/time.Second), 10)
}
