package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/backup"
	"github.com/difronte/difronte/testnet/poll"
)

// TestSchedulerKeepsN: with an injected clock, each run writes a verified
// backup named for its time and keeps the newest Keep; a failed run
// records its error and removes nothing.
func TestSchedulerKeepsN(t *testing.T) {
	root := t.TempDir()
	st := seed(t, filepath.Join(root, "src"), 5)
	defer st.Close()
	dir := filepath.Join(root, "backups")
	clk := fakeclock.New(time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC))
	fail := false
	s := backup.NewScheduler(backup.Schedule{Dir: dir, Every: 24 * time.Hour, Keep: 3, Clock: clk,
		Write: func(ctx context.Context, path string) (backup.Summary, error) {
			if fail {
				return backup.Summary{}, errors.New("disk full")
			}
			return backup.Write(ctx, path, testKey, st, clk.Now(), opts)
		}})
	for range 5 {
		r := s.RunOnce(context.Background())
		if !r.OK() || r.Size == 0 || !r.Time.Equal(clk.Now()) {
			t.Fatalf("run: %+v", r)
		}
		clk.Advance(24 * time.Hour)
	}
	names := topLevel(t, dir)
	want := "difronte-20250303T020000.000Z.backup,difronte-20250304T020000.000Z.backup,difronte-20250305T020000.000Z.backup"
	if strings.Join(names, ",") != want {
		t.Fatalf("kept %v", names)
	}
	for _, n := range names {
		if _, err := backup.Verify(filepath.Join(dir, n), opts); err != nil {
			t.Fatal(err)
		}
	}
	fail = true
	r := s.RunOnce(context.Background())
	if r.OK() || r.Error != "disk full" || r.Runs != 6 || r.Failures != 1 {
		t.Fatalf("failed run: %+v", r)
	}
	if last, ok := s.Last(); !ok || last != r {
		t.Fatalf("last %+v, ran %+v", last, r)
	}
	if got := topLevel(t, dir); len(got) != 3 {
		t.Fatalf("a failed run removed backups: %v", got)
	}
	s.Close()
}

// TestSchedulerRuns: started with a short interval, the scheduler takes
// backups on its own, keeps Keep of them, and stops on Close; restarted,
// it picks up the newest backup in the directory as its last result.
func TestSchedulerRuns(t *testing.T) {
	root := t.TempDir()
	st := seed(t, filepath.Join(root, "src"), 5)
	defer st.Close()
	dir := filepath.Join(root, "backups")
	cfg := backup.Schedule{Dir: dir, Every: 20 * time.Millisecond, Keep: 2,
		Write: func(ctx context.Context, path string) (backup.Summary, error) {
			return backup.Write(ctx, path, testKey, st, time.Now(), opts)
		}}
	s := backup.NewScheduler(cfg)
	if _, ok := s.Last(); ok {
		t.Fatal("a result before the first backup")
	}
	s.Start()
	poll.Until(t, 20*time.Second, "four scheduled backups", func() bool {
		r, ok := s.Last()
		return ok && r.Runs >= 4
	})
	if r, _ := s.Last(); !r.OK() {
		t.Fatalf("scheduled backup: %+v", r)
	}
	s.Close()
	s.Close()
	names := topLevel(t, dir)
	if len(names) != 2 {
		t.Fatalf("kept %v, want 2", names)
	}
	cfg.Every = time.Hour // the newest backup is not due again yet
	again := backup.NewScheduler(cfg)
	r, ok := again.Last()
	if ok {
		t.Fatalf("result before start: %+v", r)
	}
	again.Start()
	r, ok = again.Last()
	again.Close()
	if fi, err := os.Stat(filepath.Join(dir, names[1])); !ok || r.File != names[1] || err != nil || r.Size != fi.Size() {
		t.Fatalf("after a restart the last result is %+v %v, want %s", r, ok, names[1])
	}
}
