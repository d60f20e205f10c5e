package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// The "act for citizen" mode: only an operator or admin enters it, only
// for a live citizen; it survives a restart (it is the session's), and
// deleting the citizen ends it while the operator stays logged in.
func TestActForCitizen(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	clk := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s, err := Open(ctx, d, Config{Params: cheap, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "ponte-di-vetro-42"
	for _, a := range []Account{{Username: "operatore", Role: Operator}, {Username: "badante", Role: Caregiver},
		{Username: "rosa", Role: Citizen}, {Username: "ugo", Role: Citizen}} {
		if _, err := s.Create(ctx, a, pw); err != nil {
			t.Fatal(err)
		}
	}
	op, _, err := s.Login(ctx, "operatore", pw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cg, _, _ := s.Login(ctx, "badante", pw, "127.0.0.1")
	rosa, _, _ := s.Login(ctx, "rosa", pw, "127.0.0.1")
	for _, c := range []struct {
		tok, citizen string
		want         error
	}{
		{cg, "rosa", ErrNotCitizen},           // a caregiver may not act
		{rosa, "ugo", ErrNotCitizen},          // nor a citizen
		{op, "badante", ErrNotCitizen},        // only for a citizen
		{op, "nessuno", ErrNotCitizen},        // who exists
		{"not-a-token", "rosa", ErrNoSession}, // in a live session
		{op, "rosa", nil},
	} {
		if err := s.ActFor(ctx, c.tok, c.citizen); !errors.Is(err, c.want) {
			t.Errorf("ActFor(%s) = %v, want %v", c.citizen, err, c.want)
		}
	}
	// The mode is the session's, kept across a restart.
	s, err = Open(ctx, d, Config{Params: cheap, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if a, acting, err := s.AuthenticateSession(op); err != nil || a.Username != "operatore" || acting != "rosa" {
		t.Fatalf("after restart: %v %q %v", a, acting, err)
	}
	if _, acting, _ := s.AuthenticateSession(rosa); acting != "" {
		t.Fatalf("rosa's own session acts for %q", acting)
	}
	// A password login's equal for a provider-checked one.
	_, se, err := s.OpenSession(ctx, "ugo")
	if err != nil || se.Role != Citizen || s.SessionCount("ugo") != 1 {
		t.Fatalf("OpenSession: %v %+v", err, se)
	}
	if err := s.Delete(ctx, "rosa"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(rosa); !errors.Is(err, ErrNoSession) {
		t.Fatalf("rosa's session after deletion: %v", err)
	}
	if a, acting, err := s.AuthenticateSession(op); err != nil || a.Username != "operatore" || acting != "" {
		t.Fatalf("operator after rosa's deletion: %v %q %v", a, acting, err)
	}
	if _, ok := s.Get("rosa"); ok || !errors.Is(s.Delete(ctx, "rosa"), ErrNotFound) {
		t.Fatal("rosa still there")
	}
	if _, _, err := s.OpenSession(ctx, "rosa"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("OpenSession of a deleted account: %v", err)
	}
}
