package replica

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"

	"github.com/difronte/difronte/schema"
)

// TestCurrentOfARareKind covers both ways Current reads: point reads for a
// kind that is a small part of the replica, a full scan otherwise. Both
// return exactly the live records of the kind, tombstones and superseded
// versions excluded, also after a restart.
func TestCurrentOfARareKind(t *testing.T) {
	ctx := context.Background()
	ds := newDS()
	r := open(t, ds)
	var es []*schema.Entry
	for p := range 3 {
		priv := key(p + 1)
		seq := uint64(0)
		next := func(kind schema.Kind, k string, tomb bool, body string) {
			seq++
			e := &schema.Entry{Seq: seq, Kind: kind, Key: k, Tombstone: tomb, IssuedAt: t0}
			if !tomb {
				e.Body = []byte(body)
			}
			if err := e.Sign(priv); err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		for i := range 40 {
			k := fmt.Sprintf("o%d-%d", p, i)
			next(schema.KindOffering, k, false, fmt.Sprintf(`{"id":%q}`, k))
		}
		next(schema.KindCoop, "profile", false, fmt.Sprintf(`{"name":"old %d"}`, p))
		next(schema.KindCoop, "profile", false, fmt.Sprintf(`{"name":"coop %d"}`, p))
		if p == 2 {
			next(schema.KindCoop, "profile", true, "")
		}
	}
	if _, err := r.ApplyBatch(ctx, es); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []*Replica{r, open(t, ds)} {
		var names []string
		if err := rep.Current(ctx, schema.KindCoop, func(e *schema.Entry) error {
			names = append(names, string(e.Body))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		if want := []string{`{"name":"coop 0"}`, `{"name":"coop 1"}`}; !slices.Equal(names, want) {
			t.Fatalf("coop profiles %v, want %v", names, want)
		}
		n := 0
		if err := rep.Current(ctx, schema.KindOffering, func(*schema.Entry) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 120 {
			t.Fatalf("offerings %d, want 120", n)
		}
		if err := rep.Current(ctx, schema.KindQualification, func(*schema.Entry) error {
			t.Fatal("a kind the replica never held yielded an entry")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeqHoldersCount checks the in-memory reads the catalogue view uses
// instead of a copy of its own: a key's seq and tombstone, the publishers
// of a key, and how many live records of a kind there are.
func TestSeqHoldersCount(t *testing.T) {
	ctx := context.Background()
	r := open(t, newDS())
	a, b := key(1), key(2)
	pa := schema.PeerIDFromPublicKey(a.Public().(ed25519.PublicKey))
	pb := schema.PeerIDFromPublicKey(b.Public().(ed25519.PublicKey))
	add := func(k ed25519.PrivateKey, kind schema.Kind, id string, tomb bool) {
		t.Helper()
		var body []byte
		if !tomb {
			body = fmt.Appendf(nil, `{"id":%q,"name":"n"}`, id)
		}
		if _, err := r.Append(ctx, k, kind, id, body, tomb, t0); err != nil {
			t.Fatal(err)
		}
	}
	add(a, schema.KindOffering, "x", false)
	add(a, schema.KindOffering, "y", false)
	add(b, schema.KindOffering, "x", false)
	add(b, schema.KindCoop, "profile", false)
	add(a, schema.KindOffering, "y", true)
	if seq, tomb, ok := r.Seq(pa, schema.KindOffering, "y"); !ok || !tomb || seq != 3 {
		t.Fatalf("Seq(a, y) = %d %t %t, want 3, tombstone", seq, tomb, ok)
	}
	if seq, tomb, ok := r.Seq(pb, schema.KindOffering, "x"); !ok || tomb || seq != 1 {
		t.Fatalf("Seq(b, x) = %d %t %t, want 1, live", seq, tomb, ok)
	}
	if _, _, ok := r.Seq(pb, schema.KindOffering, "y"); ok {
		t.Fatal("Seq(b, y) found a key b never wrote")
	}
	want := []string{pa, pb}
	slices.Sort(want)
	if got := r.Holders(schema.KindOffering, "x"); !slices.Equal(got, want) {
		t.Fatalf("Holders(x) = %v, want %v", got, want)
	}
	if got := r.Holders(schema.KindOffering, "y"); len(got) != 0 {
		t.Fatalf("Holders(y) = %v, want none (withdrawn)", got)
	}
	if n := r.CountLive(schema.KindOffering); n != 2 {
		t.Fatalf("CountLive(offering) = %d, want 2", n)
	}
	if n := r.CountLive(schema.KindCoop); n != 1 {
		t.Fatalf("CountLive(coop) = %d, want 1", n)
	}
}
