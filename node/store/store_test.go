package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type rec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Gone bool   `json:"gone"`
}

func TestCollectionOrderPageAndReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCollection(ctx, st.Namespace("/x"), "/r/", func(r *rec) string { return r.ID })
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d", "b", "e", "a", "c"} {
		if err := c.Put(ctx, rec{ID: id, Name: "n" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Put(ctx, rec{ID: "b", Name: "changed", Gone: true}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		keep          func(*rec) bool
		offset, limit int
		total         int
		ids           string
	}{
		{func(*rec) bool { return true }, 0, 10, 5, "abcde"},
		{func(*rec) bool { return true }, 1, 2, 5, "bc"},
		{func(*rec) bool { return true }, 4, 2, 5, "e"},
		{func(*rec) bool { return true }, 9, 2, 5, ""},
		{func(r *rec) bool { return !r.Gone }, 0, 3, 4, "acd"},
		{func(r *rec) bool { return !r.Gone }, 0, 0, 4, ""},
	}
	check := func(c *Collection[rec]) {
		t.Helper()
		for i, tc := range cases {
			total, page := c.Page(tc.keep, tc.offset, tc.limit)
			ids := ""
			for _, r := range page {
				ids += r.ID
			}
			if total != tc.total || ids != tc.ids || page == nil {
				t.Errorf("case %d: total %d ids %q, want %d %q", i, total, ids, tc.total, tc.ids)
			}
		}
		if got, _ := c.Get("b"); got.Name != "changed" {
			t.Errorf("b = %+v", got)
		}
		if c.Count() != 5 || len(c.Filter(func(r *rec) bool { return r.Gone })) != 1 {
			t.Errorf("count %d", c.Count())
		}
	}
	check(c)
	// Page hands out copies: changing one does not change the store.
	_, page := c.Page(func(*rec) bool { return true }, 0, 1)
	page[0].Name = "mutated"
	if got, _ := c.Get("a"); got.Name != "na" {
		t.Fatal("Page returned a record aliasing the collection")
	}
	st.Close()

	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err = LoadCollection(ctx, st.Namespace("/x"), "/r/", func(r *rec) string { return r.ID })
	if err != nil {
		t.Fatal(err)
	}
	check(c)
}

func TestBackupRestoreAndEmpty(t *testing.T) {
	ctx := context.Background()
	src, dst := t.TempDir(), t.TempDir()
	if !Empty(src) {
		t.Fatal("new dir not empty")
	}
	st, err := Open(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := PutJSON(ctx, st.Datastore(), fmt.Sprintf("/k/%03d", i), map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := st.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if Empty(src) {
		t.Fatal("a written store looks empty")
	}
	// Closed stores release their directory lock.
	if st, err := Open(src, Options{}); err != nil {
		t.Fatal(err)
	} else {
		st.Close()
	}
	st2, err := Open(dst, Options{StockBadger: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if err := st2.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = Each(ctx, st2.Datastore(), "/k/", func(k string, v []byte) error {
		var m map[string]int
		if err := GetJSON(ctx, st2.Datastore(), k, &m); err != nil {
			return err
		}
		if k != fmt.Sprintf("/k/%03d", m["i"]) || m["i"] != n {
			return fmt.Errorf("key %s holds %v", k, m)
		}
		n++
		return nil
	})
	if err != nil || n != 100 {
		t.Fatalf("restored %d keys: %v", n, err)
	}
	if err := NewMemory().Backup(&buf); err == nil {
		t.Fatal("memory store backed up")
	}
}

func TestSecondOpenOfALockedStoreFails(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st2, err := Open(dir, Options{}); err == nil {
		st2.Close()
		t.Fatal("a store open in this process opened twice")
	}
}
