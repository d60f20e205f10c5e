package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

func TestPasswordStrength(t *testing.T) {
	personal := []string{"giulia.ferrari", "Giulia Ferrari", "Cooperativa Il Girasole"}
	for _, c := range []struct {
		pw   string
		want error
	}{
		// Accepted only for their length until now.
		{"aaaaaaaaaa", ErrPasswordPattern},
		{"1234567890", ErrPasswordCommon},
		{"password12", ErrPasswordCommon},
		{strings.Repeat(" ", 10), ErrPasswordPattern},
		{"giulia.ferrari", ErrPasswordPersonal},
		// Personal words, whole or in part, and Italian favourites.
		{"GiuliaFerrari1", ErrPasswordPersonal},
		{"girasole2026!", ErrPasswordPersonal},
		{"juventus1897", ErrPasswordCommon},
		{"forzanapoli!", ErrPasswordCommon},
		{"ciaociao123", ErrPasswordCommon},
		{"qwertyuiop", ErrPasswordCommon},
		{"corta", ErrWeakPassword},
		{strings.Repeat("lunga ", 50), ErrWeakPassword},
		// Strong enough.
		{"quaderno-rosso-nel-bosco", nil},
		{"gatto viola sul tetto", nil},
		{"Tr0ub4dor&3-lampione", nil},
	} {
		err := ValidatePassword(c.pw, personal...)
		if err != c.want {
			t.Errorf("%q: %v, want %v", c.pw, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%q: %v is not an ErrWeakPassword", c.pw, err)
		}
	}
	for range 50 {
		if p := NewPassword(); ValidatePassword(p, "admin", "Amministratore", "Cooperativa") != nil {
			t.Fatalf("generated password %q refused", p)
		}
	}
}

// Create and Update check the password against the account's own names
// and the coop's.
func TestAccountPasswordIsNotPersonal(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()), Config{Params: cheap, CoopName: "Cooperativa Il Girasole"})
	if err != nil {
		t.Fatal(err)
	}
	a := Account{Username: "mario.rossi", Role: Caregiver, DisplayName: "Mario Rossi"}
	for _, pw := range []string{"mario.rossi", "rossimario1960", "ilgirasole2026"} {
		if _, err := s.Create(ctx, a, pw); err != ErrPasswordPersonal {
			t.Errorf("create with %q: %v", pw, err)
		}
	}
	if _, err := s.Create(ctx, a, "quaderno-rosso-nel-bosco"); err != nil {
		t.Fatal(err)
	}
	a.DisplayName = "Mario Rossi Bianchini"
	if _, err := s.Update(ctx, a, "bianchini-1960"); err != ErrPasswordPersonal {
		t.Errorf("update: %v", err)
	}
}
