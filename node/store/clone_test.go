package store

import (
	"context"
	"slices"
	"testing"
)

type cloned struct {
	ID    string   `json:"id"`
	Items []string `json:"items"`
}

func (c *cloned) Clone() cloned {
	d := *c
	d.Items = slices.Clone(c.Items)
	return d
}

// TestCollectionClones: a record that is a Cloner comes out of Get, Filter
// and Page as a copy sharing no slice with memory, so a change made to it
// in place before it is written back is not in memory before its write.
func TestCollectionClones(t *testing.T) {
	ctx := context.Background()
	st := NewMemory()
	c, err := LoadCollection(ctx, st.Namespace("/c"), "/c/", func(r *cloned) string { return r.ID })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, cloned{ID: "a", Items: []string{"open", "open"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Get("a")
	got.Items[0] = "withdrawn"
	f := c.Filter(func(*cloned) bool { return true })
	f[0].Items[1] = "withdrawn"
	_, page := c.Page(func(*cloned) bool { return true }, 0, 10)
	page[0].Items[0] = "accepted"
	if now, _ := c.Get("a"); now.Items[0] != "open" || now.Items[1] != "open" {
		t.Fatalf("memory changed through copies: %v", now.Items)
	}
}
