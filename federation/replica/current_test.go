package replica

import (
	"context"
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
