package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// limited is a Service with one admin account, for the attacks below.
type limited struct {
	t      *testing.T
	s      *Service
	clk    *fakeclock.Clock
	checks int // attempts answered "wrong password": guesses that were checked
}

const adminPW = "quaderno-rosso-nel-bosco"

func newLimited(t *testing.T) *limited {
	t.Helper()
	ctx := context.Background()
	l := &limited{t: t, clk: fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	var err error
	if l.s, err = Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()), Config{Params: cheap, Clock: l.clk}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.s.Create(ctx, Account{Username: "admin", Role: Admin}, adminPW); err != nil {
		t.Fatal(err)
	}
	return l
}

// login tries once and tells what came of it: "ok", "bad" or "limited".
func (l *limited) login(user, pw, remote string) string {
	l.t.Helper()
	_, _, err := l.s.Login(context.Background(), user, pw, remote)
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrBadCredentials):
		l.checks++
		return "bad"
	case errors.Is(err, ErrRateLimited):
		var rl *RateLimitError
		if !errors.As(err, &rl) || rl.Wait <= 0 || RetryAfter(err) == "" {
			l.t.Fatalf("refusal without a wait: %v", err)
		}
		return "limited"
	}
	l.t.Fatalf("login %s from %s: %v", user, remote, err)
	return ""
}

// Attack (a): filling the table with failed logins for distinct usernames
// used to switch counting off. From one address the flood itself is cut
// short; from many, the sketch keeps counting the target.
func TestLimiterSurvivesATableFlood(t *testing.T) {
	l := newLimited(t)
	for i := range 10_050 {
		l.login(fmt.Sprintf("user%05d", i), "x", "198.51.100.7")
	}
	if l.checks > 10 {
		t.Errorf("one address had %d of 10,050 distinct usernames checked, want at most 10", l.checks)
	}
	for i := range 20 {
		if got := l.login("admin", fmt.Sprintf("guess-%d", i), "198.51.100.7"); got != "limited" {
			t.Fatalf("guess %d at the target after the flood: %s", i+1, got)
		}
	}

	// The same flood spread over 10,050 addresses, one username each.
	l = newLimited(t)
	for i := range 10_050 {
		l.login(fmt.Sprintf("user%05d", i), "x", fmt.Sprintf("10.%d.%d.1", i/250, i%250))
	}
	l.checks = 0
	for range 20 {
		l.login("admin", "wrong-guess", "203.0.113.9")
	}
	if l.checks > 5 {
		t.Errorf("after a flood from many addresses, %d guesses at the target were checked, want at most 5", l.checks)
	}
	// Fixed memory: the flood grew nothing, and others still log in.
	for _, sk := range []*sketch{&l.s.limiter.pair, &l.s.limiter.addr, &l.s.limiter.account} {
		if len(sk.rows) != sketchDepth || len(sk.rows[0]) != sketchWidth {
			t.Fatalf("sketch is %d×%d", len(sk.rows), len(sk.rows[0]))
		}
	}
	if got := l.login("admin", adminPW, "192.0.2.1"); got != "ok" {
		t.Errorf("the admin after the flood: %s", got)
	}
}

// A sketch far too small for the flood refuses more, never less: its
// counts are overestimates.
func TestLimiterFullSketchRefuses(t *testing.T) {
	clk := fakeclock.New(time.Unix(1e9, 0))
	l := newLimiter(clk, 64, 16)
	for i := range 5000 {
		l.Fail(fmt.Sprintf("user%d", i), fmt.Sprintf("10.%d.%d.1", i/250, i%250))
	}
	if l.Allow("never-failed", "192.0.2.200") == 0 {
		t.Error("a saturated sketch let a key through")
	}
	for i := range 100 {
		l.Succeed(fmt.Sprintf("user%d", i), "192.0.2.1")
	}
	if l.known.lru.Len() != 16 || len(l.known.byKey) != 16 {
		t.Errorf("known pairs: %d listed, %d mapped, want 16", l.known.lru.Len(), len(l.known.byKey))
	}
}

// Attack (b): 20 wrong passwords a minute from 4 addresses used to lock the
// admin out. The rule: the account throttle (20 failures, then doubling
// delays) does not apply to a username and address pair that logged in
// successfully in the last 30 days; only that pair's own throttle does. So
// the admin keeps logging in from where they logged in before, while an
// address that never did waits like the attackers.
func TestLimiterAttackersCannotLockTheAdminOut(t *testing.T) {
	l := newLimited(t)
	if got := l.login("admin", adminPW, "192.0.2.10"); got != "ok" {
		t.Fatalf("first login: %s", got)
	}
	l.checks = 0
	for minute := range 60 {
		for a := 1; a <= 4; a++ {
			for range 5 {
				l.login("admin", "guess", fmt.Sprintf("203.0.113.%d", a))
			}
		}
		if minute%10 == 9 {
			if got := l.login("admin", adminPW, "192.0.2.10"); got != "ok" {
				t.Fatalf("minute %d: the admin from their own address: %s", minute+1, got)
			}
		}
		// From an address the admin never used, the account's delay holds.
		if minute == 29 {
			if got := l.login("admin", adminPW, "192.0.2.77"); got != "limited" {
				t.Errorf("minute 30: the right password from an address never used: %s", got)
			}
		}
		l.clk.Advance(time.Minute)
	}
	// 20 free failures, then fewer than one every 3 minutes.
	if l.checks > 20+60/3 {
		t.Errorf("1,200 attempts in an hour had %d guesses checked", l.checks)
	}
}

// Attack (c): one address trying 60 usernames used to get no refusal.
func TestLimiterStopsUsernameSpraying(t *testing.T) {
	l := newLimited(t)
	first := 0
	for i := 1; i <= 60; i++ {
		if l.login(fmt.Sprintf("name%d", i), "password-estate-2025", "198.51.100.20") == "limited" && first == 0 {
			first = i
		}
	}
	if first == 0 || first > 11 {
		t.Fatalf("first refusal at attempt %d of 60, want 11", first)
	}
	if l.checks != 10 {
		t.Errorf("%d of 60 guesses checked, want 10", l.checks)
	}
	// A whole IPv6 /64 is one address.
	l = newLimited(t)
	for i := range 10 {
		l.login(fmt.Sprintf("name%d", i), "x", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if got := l.login("name99", "x", "2001:db8:1:2:ffff::1"); got != "limited" {
		t.Errorf("11th username from the same /64: %s", got)
	}
	if got := l.login("name99", "x", "2001:db8:1:3::1"); got != "bad" {
		t.Errorf("the next /64: %s", got)
	}
}

// Delays grow with each failure past the free ones, and shrink as time
// forgives them; a success forgets the pair's failures.
func TestLimiterBackoff(t *testing.T) {
	clk := fakeclock.New(time.Unix(1e9, 0))
	l := NewLimiter(clk)
	for range 4 {
		l.Fail("anna", "10.0.0.1")
	}
	if w := l.Allow("anna", "10.0.0.1"); w != 0 {
		t.Fatalf("after 4 failures: wait %v", w)
	}
	var waits []time.Duration
	for range 6 {
		l.Fail("anna", "10.0.0.1")
		w := l.Allow("anna", "10.0.0.1")
		waits = append(waits, w)
		clk.Advance(w)
	}
	// Waiting forgives a little (one failure per 10 minutes), so the delay
	// settles near that rate instead of doubling on.
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute, 8 * time.Minute}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if got := RetryAfter(&RateLimitError{Wait: 1500 * time.Millisecond}); got != "2" {
		t.Errorf("Retry-After %q, want 2", got)
	}
	// Time forgives: two hours later the pair has failures to spare.
	clk.Advance(2 * time.Hour)
	l.Fail("anna", "10.0.0.1")
	if w := l.Allow("anna", "10.0.0.1"); w != 0 {
		t.Errorf("two hours later: wait %v", w)
	}
	// A success starts the known pair from a clean count.
	l.Succeed("anna", "10.0.0.1")
	for range 4 {
		l.Fail("anna", "10.0.0.1")
	}
	if w := l.Allow("anna", "10.0.0.1"); w != 0 {
		t.Errorf("4 failures after a success: wait %v", w)
	}
	l.Fail("anna", "10.0.0.1")
	if w := l.Allow("anna", "10.0.0.1"); w != time.Minute {
		t.Errorf("5 failures after a success: wait %v", w)
	}
	// Knowledge of a pair expires after 30 days.
	clk.Advance(31 * 24 * time.Hour)
	if l.known.get("anna\n10.0.0.1", clk.Now().UnixNano()) != nil {
		t.Error("a pair still known after 31 days")
	}
}
