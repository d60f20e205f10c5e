package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// An unknown user, a disabled one and a wrong password cost the same
// argon2 check, so usernames cannot be found by timing.
func TestUnknownUserCostsAWrongPassword(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s, err := Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()), Config{Params: cheap, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	s.check = func(hash, pw string) bool { checked = append(checked, hash); return CheckPassword(hash, pw) }
	for _, u := range []string{"anna", "bruno"} {
		if _, err := s.Create(ctx, Account{Username: u, Role: Caregiver}, "tramonto-sul-lago-blu"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Update(ctx, Account{Username: "bruno", Role: Caregiver, Disabled: true}, ""); err != nil {
		t.Fatal(err)
	}
	real, _ := s.Get("anna")
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	for _, u := range []string{"anna", "bruno", "ghost"} {
		checked = nil
		s.Login(ctx, u, "sbagliata", "10.0.0.1")
		if len(checked) != 1 || params(checked[0]) != params(real.Hash) {
			t.Errorf("login of %s checked %q, want one hash with the accounts' parameters %q", u, checked, params(real.Hash))
		}
	}

	// Measured, with parameters where argon2 outweighs the rest: the
	// medians of unknown users and wrong passwords, taken in turns, are
	// within 2× of each other. Each round comes an hour later so the
	// limiter never answers first.
	if s, err = Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()), Config{Params: timed, Clock: clk}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Account{Username: "anna", Role: Caregiver}, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	var unknown, wrong []time.Duration
	for i := range 31 {
		clk.Advance(time.Hour)
		turns := []struct {
			user string
			d    *[]time.Duration
		}{{fmt.Sprintf("ghost%d", i), &unknown}, {"anna", &wrong}}
		if i%2 == 1 {
			slices.Reverse(turns)
		}
		for _, c := range turns {
			start := time.Now()
			s.Login(ctx, c.user, "sbagliata", "10.0.0.2")
			*c.d = append(*c.d, time.Since(start))
		}
	}
	mu, mw := median(unknown), median(wrong)
	if mu > 2*mw || mw > 2*mu {
		t.Errorf("median login time: unknown user %v, wrong password %v", mu, mw)
	}
}

// timed costs a few hundred microseconds a hash, a quarter of what the
// stand-in hash for unknown users used to cost.
var timed = Params{Memory: 128, Time: 2, Threads: 1}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
