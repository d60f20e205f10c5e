package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h, err := HashPassword("una password lunga", cheap)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("una password lunga", cheap)
	if h == h2 || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hashes %q %q: want salted PHC strings", h, h2)
	}
	cases := []struct {
		hash, pw string
		ok       bool
	}{
		{h, "una password lunga", true},
		{h, "una password lung", false},
		{h, "", false},
		{"", "x", false},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "x", false},
		{"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA", "x", false}, // absurd memory refused, not allocated
		{"$argon2id$v=19$m=64,t=1,p=0$c2FsdA$aGFzaA", "x", false},
		{"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA", "x", false},
	}
	for i, c := range cases {
		if got := CheckPassword(c.hash, c.pw); got != c.ok {
			t.Errorf("case %d: CheckPassword = %v", i, got)
		}
	}
	if ValidatePassword("corta") == nil || ValidatePassword(strings.Repeat("x", 257)) == nil || ValidatePassword("abbastanza lunga") != nil {
		t.Error("ValidatePassword bounds")
	}
	if p := NewPassword(); len(p) < 16 || ValidatePassword(p) != nil {
		t.Errorf("generated password %q", p)
	}
}

func TestAccountsSessionsAndReload(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	clk := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s, err := Open(ctx, d, Config{Params: cheap, Clock: clk, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a   Account
		pw  string
		err error
	}{
		{Account{Username: "anna", Role: Caregiver}, "tramonto-sul-lago-blu", nil},
		{Account{Username: "anna", Role: Admin}, "tramonto-sul-lago-blu", ErrExists},
		{Account{Username: "An", Role: Admin}, "tramonto-sul-lago-blu", ErrBadUsername},
		{Account{Username: "bob", Role: "king"}, "tramonto-sul-lago-blu", ErrBadRole},
		{Account{Username: "bob", Role: Admin}, "short", ErrWeakPassword},
	} {
		if _, err := s.Create(ctx, c.a, c.pw); !errors.Is(err, c.err) {
			t.Errorf("create %+v: %v, want %v", c.a, err, c.err)
		}
	}
	tok, se, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1")
	if err != nil || se.Role != Caregiver || !se.Expires.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("login: %+v %v", se, err)
	}
	if a, err := s.Authenticate(tok); err != nil || a.Username != "anna" || a.Hash == "" {
		t.Fatalf("authenticate: %+v %v", a, err)
	}
	// The store keeps a hash of the token, never the token.
	raw, _ := d.Query(ctx, queryAll())
	for r := range raw.Next() {
		if strings.Contains(string(r.Value), tok) || strings.Contains(r.Key, tok) {
			t.Fatal("the store holds a session token in clear")
		}
	}
	raw.Close()

	// Sessions survive a restart, and expire.
	s, err = Open(ctx, d, Config{Params: cheap, Clock: clk, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(tok); err != nil {
		t.Fatalf("session lost on reload: %v", err)
	}
	clk.Advance(61 * time.Minute)
	if _, err := s.Authenticate(tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired session accepted: %v", err)
	}

	// A new password ends the sessions; the old password stops working.
	tok, _, _ = s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1")
	if _, err := s.Update(ctx, Account{Username: "anna", Role: Caregiver}, "nuvola-di-carta-gialla"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(tok); err == nil {
		t.Fatal("session survived a password change")
	}
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	tok, _, _ = s.Login(ctx, "anna", "nuvola-di-carta-gialla", "10.0.0.1")
	if _, err := s.Update(ctx, Account{Username: "anna", Role: Caregiver, Disabled: true}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(tok); err == nil {
		t.Fatal("session survived disabling")
	}
	if _, _, err := s.Login(ctx, "anna", "nuvola-di-carta-gialla", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled login: %v", err)
	}
	if err := s.Logout(ctx, "unknown-token"); err != nil {
		t.Fatalf("logout of an unknown token: %v", err)
	}
	if _, err := s.Update(ctx, Account{Username: "nobody", Role: Admin}, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing account: %v", err)
	}
	if _, err := s.Authenticate(strings.Repeat("x", 101)); err == nil {
		t.Fatal("oversized token accepted")
	}
}

func TestLoginRateLimitPerAddressAndUser(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s, err := Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()), Config{Params: cheap, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Account{Username: "anna", Role: Admin}, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, _, err := s.Login(ctx, "anna", "wrong-password", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("6th attempt from the same address: %v", err)
	}
	// Another address may still try, until the per-user budget (4×) runs out.
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.2"); err != nil {
		t.Fatalf("other address: %v", err)
	}
	for a := 3; a < 10; a++ {
		for range 5 {
			s.Login(ctx, "anna", "wrong-password", "10.0.0."+string(rune('0'+a)))
		}
	}
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.99"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("per-user limit from a fresh address: %v", err)
	}
	// Unknown users are limited the same way (no probing for usernames).
	for range 5 {
		s.Login(ctx, "ghost", "x", "10.0.0.1")
	}
	if _, _, err := s.Login(ctx, "ghost", "x", "10.0.0.1"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("unknown user not limited: %v", err)
	}
	clk.Advance(time.Minute)
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func queryAll() dsq.Query { return dsq.Query{} }
