package search

import (
	"encoding/json"
	"errors"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"

	"github.com/difronte/difronte/schema"
)

// TestBulkScanAndChunkedSnapshot: enough whole publishers to reindex by one
// replica scan, at the first start and after changes made while the index
// was closed (withdrawals and a rename), with a snapshot of more than one
// chunk in between; the name order stays sorted throughout.
func TestBulkScanAndChunkedSnapshot(t *testing.T) {
	dir := t.TempDir() + "/search"
	rep := newReplica(t)
	f := newFixture(t, rep, 3)
	const n = 3300
	docs := genOfferings(7, n)
	for i, o := range docs {
		f.publish(t, i%3, o)
	}
	idx := f.open(t, dir)
	f.sync(t)
	if r := search(t, idx, Query{}); r.Total != n {
		t.Fatalf("first build: %d of %d", r.Total, n)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	// While closed: publisher 0 withdraws two offerings, publisher 1
	// renames one. Both publishers (2,198 offerings, over scanMin) are reindexed whole.
	f.withdraw(t, 0, docs[0].ID)
	f.withdraw(t, 0, docs[3].ID)
	renamed := docs[1]
	renamed.Name = "Zzz servizio rinominato " + strconv.Itoa(n)
	f.publish(t, 1, renamed)

	// Count the publishers queued before the follower can take them.
	idx, err := open(Config{Dir: dir, Replica: f.rep, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.catchUp(); err != nil {
		t.Fatal(err)
	}
	if whole := len(idx.pending); whole != 2 {
		t.Fatalf("restart queued %d publishers, want 2", whole)
	}
	idx.Close()
	idx = f.open(t, dir)
	defer idx.Close()
	f.sync(t)
	r := search(t, idx, Query{PerPage: MaxPerPage})
	if r.Total != n-2 {
		t.Fatalf("after restart: %d, want %d", r.Total, n-2)
	}
	for _, id := range []string{docs[0].ID, docs[3].ID} {
		if _, ok := idx.QualificationOf(f.ids[0], id); ok || slices.Contains(hitKeys(search(t, idx, Query{Text: docs[0].Name, PerPage: MaxPerPage})), id) {
			t.Fatalf("withdrawn %s still indexed", id)
		}
	}
	if got := hitKeys(search(t, idx, Query{Text: "rinominato"})); !slices.Contains(got, renamed.ID) {
		t.Fatalf("renamed offering not found by its new name: %v", got)
	}
	idx.mem.mu.RLock()
	defer idx.mem.mu.RUnlock()
	idx.mem.sortOrder()
	keys := make([]string, 0, len(idx.mem.order))
	for _, num := range idx.mem.order {
		keys = append(keys, idx.mem.nameKey(&idx.mem.docs[num])+"\x00"+idx.mem.idOf(num))
	}
	if len(keys) != n-2 || !slices.IsSorted(keys) {
		t.Fatalf("name order: %d documents, sorted %v", len(keys), slices.IsSorted(keys))
	}
}

// TestParallelAdderKeepsOrderAndStops: the adder puts batches in the order
// of the scan (a later version of an offering wins), and once a batch
// cannot be put the scan is told to stop, nothing after it is put, and
// close returns the cause.
func TestParallelAdderKeepsOrderAndStops(t *testing.T) {
	x := bareIndex(t)
	x.cfg.BatchSize = 10
	offers := genOfferings(21, 25)
	entry := func(o schema.Offering) *schema.Entry {
		body, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return &schema.Entry{Publisher: "12D3KooWPub", Kind: schema.KindOffering, Key: o.ID, Body: body}
	}
	bt := x.newBatcher()
	ad := x.newParallelAdder(bt, func(string) string { return "Cooperativa" }, func(int) error { return bt.flush(false) })
	for round := range 4 { // each round renames every offering: the last must win
		for _, o := range offers {
			o.Name = "Round " + strconv.Itoa(round) + " " + o.Name
			if err := ad.add(entry(o)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ad.close(); err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		n, ok := x.mem.byID.Get(docID("12D3KooWPub", o.ID), x.mem.idOf)
		if want := foldKey("Round 3 " + o.Name); !ok || x.mem.nameKey(&x.mem.docs[n]) != want {
			t.Fatalf("offering %s: indexed as %q, want the last round's name %q", o.ID, x.mem.nameKey(&x.mem.docs[n]), want)
		}
	}

	y := bareIndex(t)
	y.cfg.BatchSize = 10
	cause := errors.New("disk full")
	put := 0
	ad = y.newParallelAdder(y.newBatcher(), func(string) string { return "Cooperativa" }, func(done int) error {
		put = done
		if done >= 20 {
			return cause
		}
		return nil
	})
	stopped := false
	for i := range 200 {
		if err := ad.add(entry(genOfferings(uint64(100+i), 1)[0])); err != nil {
			if !errors.Is(err, errPutFailed) {
				t.Fatalf("add: %v, want errPutFailed", err)
			}
			stopped = true
			break
		}
	}
	if err := ad.close(); !errors.Is(err, cause) {
		t.Fatalf("close: %v, want the cause", err)
	}
	if !stopped {
		t.Error("the scan was never told to stop")
	}
	if put != 20 {
		t.Errorf("batches put up to %d entries, want none after the failure at 20", put)
	}
}

// TestSnapshotLoadRestoresCollector: loading a snapshot collects at
// loadGCPercent (the start's memory peak) and gives the collector's
// setting back when it is done.
func TestSnapshotLoadRestoresCollector(t *testing.T) {
	dir := t.TempDir() + "/search"
	f := newFixture(t, newReplica(t), 1)
	for _, o := range genOfferings(3, 50) {
		f.publish(t, 0, o)
	}
	f.open(t, dir)
	f.sync(t)
	if err := f.idx.Close(); err != nil {
		t.Fatal(err)
	}
	old := debug.SetGCPercent(137)
	defer debug.SetGCPercent(old)
	x, err := open(Config{Dir: dir, Replica: f.rep, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n := x.mem.byID.Len(); n != 50 {
		t.Fatalf("snapshot held %d offerings, want 50", n)
	}
	if got := debug.SetGCPercent(137); got != 137 {
		t.Errorf("after the load the collector's percentage is %d, want it back at 137", got)
	}
}
