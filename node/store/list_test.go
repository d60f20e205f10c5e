package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// TestListMatchesBruteForce checks List's fast paths (hidden flags kept
// beside the records, no filter) and its filtered path against a plain
// filter over every record, while records are created, hidden, unhidden
// and reloaded, and that the kept JSON always encodes the current record.
func TestListMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	load := func() *Collection[rec] {
		c, err := LoadCollection(ctx, d, "/r/", func(r *rec) string { return r.ID })
		if err != nil {
			t.Fatal(err)
		}
		c.EnableListing(func(r *rec) bool { return r.Gone })
		return c
	}
	c := load()
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(round int) {
		t.Helper()
		all := c.Filter(func(*rec) bool { return true })
		for range 40 {
			hidden := rng.IntN(2) == 0
			var keep func(*rec) bool
			if rng.IntN(2) == 0 {
				digit := fmt.Sprint(rng.IntN(10))
				keep = func(r *rec) bool { return strings.Contains(r.Name, digit) }
			}
			offset, limit := rng.IntN(len(all)+5), rng.IntN(30)
			var want []string
			total := 0
			for _, r := range all {
				if (!hidden && r.Gone) || (keep != nil && !keep(&r)) {
					continue
				}
				if total >= offset && len(want) < limit {
					want = append(want, r.ID)
				}
				total++
			}
			gotTotal, page := c.List(ListQuery[rec]{Hidden: hidden, Keep: keep, Offset: offset, Limit: limit})
			var got []string
			for _, r := range page {
				got = append(got, r.ID)
				raw, err := c.JSON(r)
				if err != nil {
					t.Fatal(err)
				}
				cur, _ := c.Get(r.ID)
				if wantRaw, _ := json.Marshal(&cur); string(raw) != string(wantRaw) {
					t.Fatalf("round %d: kept JSON of %s is %s, the record is %s", round, r.ID, raw, wantRaw)
				}
			}
			if gotTotal != total || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("round %d: List(hidden=%v, filter=%v, %d, %d) = %d %v, want %d %v",
					round, hidden, keep != nil, offset, limit, gotTotal, got, total, want)
			}
		}
	}
	for round := range 30 {
		for range 20 {
			id := fmt.Sprintf("r%03d", rng.IntN(300))
			if err := c.Put(ctx, rec{ID: id, Name: fmt.Sprint(rng.IntN(1000)), Gone: rng.IntN(3) == 0}); err != nil {
				t.Fatal(err)
			}
		}
		check(round)
		if round%10 == 9 {
			c = load() // flags rebuilt from the store
			check(round)
		}
	}
	// The page answer is valid JSON with the total and the records.
	total, page := c.List(ListQuery[rec]{Limit: 3})
	p := RawPage{Total: total}
	for _, r := range page {
		raw, _ := c.JSON(r)
		p.Items = append(p.Items, raw)
	}
	var back struct {
		Total int   `json:"total"`
		Items []rec `json:"items"`
	}
	if err := json.Unmarshal(p.AppendJSON(nil), &back); err != nil || back.Total != total || len(back.Items) != len(page) || back.Items[0] != *page[0] {
		t.Fatalf("RawPage = %s (%v), want total %d and %d records", p.AppendJSON(nil), err, total, len(page))
	}
	empty, _ := RawPage{}.MarshalJSON()
	if string(empty) != `{"total":0,"items":[]}` {
		t.Fatalf("empty page = %s", empty)
	}
}
