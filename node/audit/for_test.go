package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
)

// An event done for a citizen names them in For, is hashed with it (a
// changed For breaks the chain), and is found by ForCitizen; an event
// without For hashes as events always did.
func TestEventsForACitizen(t *testing.T) {
	for name, d := range openBoth(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l, err := Open(ctx, d, fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			plain := Event{Seq: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "admin", Action: Read, Kind: "beneficiary", Object: "b1"}
			// Without For, the hash is the one events always had.
			h := sha256.New()
			for _, f := range []string{"1", plain.Time.Format(time.RFC3339Nano), "admin", "", "read", "beneficiary", "b1", "", "", ""} {
				fmt.Fprintf(h, "%d:%s", len(f), f)
			}
			if got, want := hashEvent(&plain), hex.EncodeToString(h.Sum(nil)); got != want {
				t.Fatalf("hash without For = %s, want the old %s", got, want)
			}
			withFor := plain
			withFor.For = "rosa"
			if hashEvent(&withFor) == hashEvent(&plain) {
				t.Fatal("For does not enter the hash")
			}
			for i, ev := range []Event{
				{Actor: "operatore", Role: "operator", Action: Create, Kind: "citizen", Object: "rosa", For: "rosa"},
				{Actor: "admin", Action: Read, Kind: "beneficiary", Object: "b1"},
				{Actor: "operatore", Role: "operator", Action: Update, Kind: "citizen", Object: "rosa", For: "rosa"},
				{Actor: "operatore", Role: "operator", Action: Update, Kind: "citizen", Object: "ugo", For: "ugo"},
				{Actor: "operatore", Role: "operator", Action: Export, Kind: "citizen", Object: "rosa", For: "rosa"},
			} {
				if err := l.Record(ctx, ev); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			evs, err := l.ForCitizen(ctx, "rosa", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || evs[0].Action != Export || evs[1].Action != Update || evs[0].For != "rosa" {
				t.Fatalf("ForCitizen(rosa, 2) = %+v, want the export then the update", evs)
			}
			if evs, _ := l.ForCitizen(ctx, "nessuno", 10); len(evs) != 0 {
				t.Fatalf("ForCitizen(nessuno) = %+v", evs)
			}
			if n, err := l.Verify(ctx); err != nil || n != 5 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
			// Rewriting For breaks the chain.
			var ev Event
			raw, _ := d.Get(ctx, key(1))
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			ev.For = "ugo"
			b, _ := json.Marshal(ev)
			if err := d.Put(ctx, key(1), b); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Verify(ctx); err == nil {
				t.Fatal("a changed For went unnoticed")
			}
		})
	}
}
