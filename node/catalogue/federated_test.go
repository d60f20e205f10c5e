package catalogue

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

var cacheT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestCatalogue(t *testing.T) (*replica.Replica, *Federated, ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	rep, err := replica.Open(ctx, dssync.MutexWrap(datastore.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewFederated(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	return rep, c, ed25519.NewKeyFromSeed(seed)
}

func appendJSON(t *testing.T, rep *replica.Replica, priv ed25519.PrivateKey, kind schema.Kind, key string, v any, tomb bool) *schema.Entry {
	t.Helper()
	var body []byte
	if !tomb {
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	e, err := rep.Append(context.Background(), priv, kind, key, body, tomb, cacheT0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestGetNeverServesStale reads each listing twice around every change, so
// that the second read would come from the cache if the change had not
// reached it.
func TestGetNeverServesStale(t *testing.T) {
	ctx := context.Background()
	rep, c, priv := newTestCatalogue(t)
	const id = "0b7e6a1e-0000-4000-8000-000000000001"
	appendJSON(t, rep, priv, schema.KindCoop, "profile", schema.CoopProfile{Name: "Coop Uno"}, false)
	e := appendJSON(t, rep, priv, schema.KindOffering, id, offering("Pasti v1"), false)
	pub := e.Publisher

	steps := []struct {
		name     string
		change   func()
		wantName string // "" means withdrawn
		wantCoop string
	}{
		{"first read", func() {}, "Pasti v1", "Coop Uno"},
		{"update", func() { appendJSON(t, rep, priv, schema.KindOffering, id, offering("Pasti v2"), false) }, "Pasti v2", "Coop Uno"},
		{"coop renamed", func() {
			appendJSON(t, rep, priv, schema.KindCoop, "profile", schema.CoopProfile{Name: "Coop Due"}, false)
		}, "Pasti v2", "Coop Due"},
		{"withdrawal", func() { appendJSON(t, rep, priv, schema.KindOffering, id, nil, true) }, "", ""},
		{"published again", func() { appendJSON(t, rep, priv, schema.KindOffering, id, offering("Pasti v3"), false) }, "Pasti v3", "Coop Due"},
	}
	for _, s := range steps {
		s.change()
		for read := range 2 {
			l, err := c.Get(ctx, pub, id)
			if s.wantName == "" {
				if err == nil {
					t.Fatalf("%s, read %d: got %q, want an error for a withdrawn offering", s.name, read, l.Name)
				}
				if n, _ := c.cache.len(); n != 0 {
					t.Fatalf("%s: cache holds %d listings after the withdrawal", s.name, n)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s, read %d: %v", s.name, read, err)
			}
			if l.Name != s.wantName || l.CoopName != s.wantCoop {
				t.Fatalf("%s, read %d: got %q of %q, want %q of %q", s.name, read, l.Name, l.CoopName, s.wantName, s.wantCoop)
			}
			if n, _ := c.cache.len(); n != 1 {
				t.Fatalf("%s, read %d: cache holds %d listings, want 1", s.name, read, n)
			}
		}
	}
}

// TestRememberSkipsOlderRead covers a read that finishes after a newer
// entry was applied: it must not enter the cache.
func TestRememberSkipsOlderRead(t *testing.T) {
	ctx := context.Background()
	rep, c, priv := newTestCatalogue(t)
	const id = "0b7e6a1e-0000-4000-8000-000000000002"
	old := appendJSON(t, rep, priv, schema.KindOffering, id, offering("Vecchio"), false)
	appendJSON(t, rep, priv, schema.KindOffering, id, offering("Nuovo"), false)
	c.remember(old.Publisher+"\x00"+id, old, Listing{Offering: offering("Vecchio"), Seq: old.Seq})
	if n, _ := c.cache.len(); n != 0 {
		t.Fatalf("cache took an entry older than the catalogue's: %d listings", n)
	}
	l, err := c.Get(ctx, old.Publisher, id)
	if err != nil || l.Name != "Nuovo" {
		t.Fatalf("Get = %q, %v; want Nuovo", l.Name, err)
	}
}

// TestGetCopiesSlices checks that a caller changing a listing it got does
// not change the cached one.
func TestGetCopiesSlices(t *testing.T) {
	ctx := context.Background()
	rep, c, priv := newTestCatalogue(t)
	const id = "0b7e6a1e-0000-4000-8000-000000000003"
	e := appendJSON(t, rep, priv, schema.KindOffering, id, offering("Trasporto"), false)
	for range 2 {
		l, err := c.Get(ctx, e.Publisher, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Areas[0] != "015146" || l.Languages[0] != "it" {
			t.Fatalf("cached listing changed by a caller: areas %v languages %v", l.Areas, l.Languages)
		}
		l.Areas[0], l.Languages[0] = "999999", "xx"
	}
}

func TestListingCacheBounds(t *testing.T) {
	const body = 1000
	size := 2*body + cacheEntryOverhead
	cases := []struct {
		name               string
		maxItems, maxBytes int
		puts               int
		wantItems          int
	}{
		{"item bound", 3, 100 * size, 10, 3},
		{"byte bound", 100, 4*size + size/2, 10, 4},
		{"under both", 100, 100 * size, 10, 10},
		{"entry larger than the byte bound", 100, size - 1, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lc := newListingCache(tc.maxItems, tc.maxBytes)
			for i := range tc.puts {
				lc.put(fmt.Sprint(i), 1, body, Listing{Seq: 1})
				if n, b := lc.len(); n > tc.maxItems || b > tc.maxBytes {
					t.Fatalf("after %d puts: %d listings, %d bytes; bounds %d, %d", i+1, n, b, tc.maxItems, tc.maxBytes)
				}
			}
			if n, _ := lc.len(); n != tc.wantItems {
				t.Fatalf("holds %d listings, want %d", n, tc.wantItems)
			}
			// The most recent puts survive; the oldest were evicted.
			if tc.wantItems > 0 {
				if _, ok := lc.get(fmt.Sprint(tc.puts-1), 1); !ok {
					t.Fatal("newest listing evicted")
				}
				if _, ok := lc.get(fmt.Sprint(tc.puts-1), 2); ok {
					t.Fatal("listing served for another seq")
				}
			}
			if tc.wantItems < tc.puts {
				if _, ok := lc.get("0", 1); ok {
					t.Fatal("oldest listing not evicted")
				}
			}
		})
	}
}
