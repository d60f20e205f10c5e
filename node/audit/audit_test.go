package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openBoth(t *testing.T) map[string]ds.Batching {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return map[string]ds.Batching{
		"memory": dssync.MutexWrap(ds.NewMapDatastore()),
		"badger": st.Namespace("/audit"),
	}
}

func TestChainAppendQueryVerify(t *testing.T) {
	for name, d := range openBoth(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			l, err := Open(ctx, d, fakeclock.New(clock), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				ev := Event{Actor: "admin", Action: Create, Kind: "beneficiary", Object: string(rune('a' + i))}
				if i%2 == 0 {
					l.Note(ev)
				} else if err := l.Record(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			// Reopen: the head is kept and new events chain on it.
			l, err = Open(ctx, d, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if n, _ := l.Head(); n != 10 {
				t.Fatalf("head after reopen = %d, want 10", n)
			}
			if err := l.Record(ctx, Event{Actor: "op", Action: Read, Kind: "beneficiary", Object: "z"}); err != nil {
				t.Fatal(err)
			}
			evs, err := l.Query(ctx, Filter{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 5 || evs[0].Seq != 11 || evs[4].Seq != 7 {
				t.Fatalf("query newest first: got %d events, first %+v", len(evs), evs)
			}
			evs, _ = l.Query(ctx, Filter{Object: "c"})
			if len(evs) != 1 || evs[0].Object != "c" {
				t.Fatalf("filter by object: %+v", evs)
			}
			evs, _ = l.Query(ctx, Filter{Before: 3})
			if len(evs) != 2 {
				t.Fatalf("before 3: %d events", len(evs))
			}
			n, err := l.Verify(ctx)
			if err != nil || n != 11 {
				t.Fatalf("verify = %d, %v", n, err)
			}
		})
	}
}

func TestTamperIsDetected(t *testing.T) {
	ctx := context.Background()
	cases := map[string]func(d ds.Batching){
		"changed detail": func(d ds.Batching) {
			b, _ := d.Get(ctx, key(3))
			b = []byte(string(b[:len(b)-2]) + `,"detail":"x"}`)
			d.Put(ctx, key(3), b)
		},
		"removed event": func(d ds.Batching) { d.Delete(ctx, key(4)) },
		"swapped events": func(d ds.Batching) {
			a, _ := d.Get(ctx, key(2))
			b, _ := d.Get(ctx, key(5))
			d.Put(ctx, key(2), b)
			d.Put(ctx, key(5), a)
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			l, d := chainOf(t, 6)
			if _, err := l.Verify(ctx); err != nil {
				t.Fatalf("intact chain: %v", err)
			}
			tamper(d)
			if _, err := l.Verify(ctx); !errors.Is(err, ErrBroken) {
				t.Fatalf("tampered chain verified: %v", err)
			}
		})
	}
}

// chainOf opens a log on an in-memory datastore and records n events,
// "a", "b", ... in order; the log is closed when the test ends.
func chainOf(t *testing.T, n int) (*Log, ds.Batching) {
	t.Helper()
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	l, err := Open(ctx, d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for i := range n {
		if err := l.Record(ctx, Event{Actor: "a", Action: Update, Kind: "k", Object: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	return l, d
}
