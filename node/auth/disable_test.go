package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/store"
)

func openAuth(t *testing.T, d ds.Batching) *Service {
	t.Helper()
	s, err := Open(context.Background(), d, Config{Params: cheap, Clock: fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sessionKeys counts the sessions the store keeps.
func sessionKeys(t *testing.T, d ds.Batching) int {
	t.Helper()
	n := 0
	if err := store.Each(context.Background(), d, "/sessions/", func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDisablingEndsSessionsForGood: disabling an account ends every one of
// its sessions, in memory and in the store, so enabling it again (or a
// restart) does not bring an old token back.
func TestDisablingEndsSessionsForGood(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	s := openAuth(t, d)
	anna := Account{Username: "anna", Role: Caregiver}
	if _, err := s.Create(ctx, anna, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Account{Username: "bruno", Role: Caregiver}, "nuvola-di-carta-gialla"); err != nil {
		t.Fatal(err)
	}
	var toks []string
	for range 2 {
		tok, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	other, _, err := s.Login(ctx, "bruno", "nuvola-di-carta-gialla", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}

	anna.Disabled = true
	if _, err := s.Update(ctx, anna, ""); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if _, err := s.Authenticate(tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("session %d of a disabled account: %v", i, err)
		}
	}
	if n := sessionKeys(t, d); n != 1 {
		t.Fatalf("the store keeps %d sessions after disabling, want only bruno's", n)
	}
	if a, err := s.Authenticate(other); err != nil || a.Username != "bruno" {
		t.Fatalf("another account's session: %+v %v", a, err)
	}

	anna.Disabled = false
	if _, err := s.Update(ctx, anna, ""); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*Service{s, openAuth(t, d)} {
		for i, tok := range toks {
			if _, err := svc.Authenticate(tok); !errors.Is(err, ErrNoSession) {
				t.Fatalf("session %d came back after the account was enabled again: %v", i, err)
			}
		}
	}
}

// TestDisabledAccountRefusesStoredSession: a store that holds a disabled
// account beside a live session of it (the node stopped between the two
// writes of Update) does not let the session in after a restart.
func TestDisabledAccountRefusesStoredSession(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	s := openAuth(t, d)
	if _, err := s.Create(ctx, Account{Username: "anna", Role: Caregiver}, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get("anna")
	a.Disabled = true
	if err := store.PutJSON(ctx, d, "/accounts/anna", a); err != nil {
		t.Fatal(err)
	}
	if n := sessionKeys(t, d); n != 1 {
		t.Fatalf("fixture: %d stored sessions, want 1", n)
	}
	s = openAuth(t, d)
	if got, err := s.Authenticate(tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session of a disabled account after restart: %+v %v", got, err)
	}
	if _, _, err := s.Login(ctx, "anna", "tramonto-sul-lago-blu", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("login of a disabled account: %v", err)
	}
}
