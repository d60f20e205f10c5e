package search

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/difronte/difronte/node/catalogue"
)

// TestSearchesTakeTurns: with MaxSearches 1, a search waits while another
// holds the turn and runs once it is free; a search whose client gives up
// while waiting leaves the queue with its context's error; by default as
// many run as Go has cores.
func TestSearchesTakeTurns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, newReplica(t), 2)
	idx := f.open(t, "")
	defer idx.Close()
	for i, o := range genOfferings(3, 20) {
		f.publish(t, i%2, o)
	}
	f.sync(t)
	listings, err := catalogue.NewFederated(ctx, f.rep)
	if err != nil {
		t.Fatal(err)
	}
	c := &Catalogue{Index: idx, Listings: listings, MaxSearches: 1}

	leave, err := c.enter(ctx) // another search holds the only turn
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Search(ctx, Query{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a search ran while another held the only turn (err %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	gaveUp, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Search(gaveUp, Query{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a search whose client gave up while waiting: %v", err)
	}
	leave()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting search did not run once the turn was free")
	}
	if ans, err := c.Search(ctx, Query{}); err != nil || ans.Total != 20 {
		t.Fatalf("search after the turns: %d results, %v", ans.Total, err)
	}
	if got := cap(c.gate); got != 1 {
		t.Fatalf("gate of %d, want MaxSearches 1", got)
	}
	if d := defaultSearches(); d != max(1, runtime.GOMAXPROCS(0)) {
		t.Fatalf("default searches at once = %d", d)
	}
}
