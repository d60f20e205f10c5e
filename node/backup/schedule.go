package backup

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
)

// Schedule configures the node's own backups.
type Schedule struct {
	Dir   string        // where the backups go; one node per directory
	Every time.Duration // between two backups
	Keep  int           // how many to keep; older ones are removed
	// Write writes one verified backup of the running node to path.
	Write  func(ctx context.Context, path string) (Summary, error)
	Clock  clock.Clock // names the files and times the waits; nil is the real clock
	Logger *slog.Logger
}

// Result is the outcome of the last scheduled backup.
type Result struct {
	Time  time.Time
	File  string // base name in the backup directory
	Size  int64
	Error string // empty when the backup was written and verified
	// Runs and Failures count the attempts since the node started.
	Runs, Failures uint64
}

// OK reports whether the backup was written and verified.
func (r Result) OK() bool { return r.Error == "" }

// retryAfter bounds the wait after a failed backup.
const retryAfter = time.Hour

// firstAfter bounds the wait before the first backup of a directory that
// holds none, so a node restarted more often than Every still gets one.
const firstAfter = time.Minute

// Scheduler takes the node's backups, one every Schedule.Every.
type Scheduler struct {
	cfg  Schedule
	log  *slog.Logger
	mu   sync.Mutex
	last Result
	have bool

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// NewScheduler prepares a scheduler; Start runs it.
func NewScheduler(cfg Schedule) *Scheduler {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Keep < 1 {
		cfg.Keep = 1
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "backup"), done: make(chan struct{})}
}

// fileName is a scheduled backup's name for its time; names sort by time.
func fileName(t time.Time) string {
	return "difronte-" + t.UTC().Format("20060102T150405.000") + "Z.backup"
}

// backups lists the scheduled backups in dir, newest first.
func backups(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "difronte-*Z.backup"))
	var out []string
	for _, p := range m {
		if _, ok := fileTime(filepath.Base(p)); ok {
			out = append(out, filepath.Base(p))
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func fileTime(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "difronte-")
	if s, ok = strings.CutSuffix(s, "Z.backup"); !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405.000", s)
	return t, err == nil
}

// Start runs the schedule until Close: the next backup is due Every after
// the newest one in the directory.
func (s *Scheduler) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	wait := min(s.cfg.Every, firstAfter)
	if names := backups(s.cfg.Dir); len(names) > 0 {
		t, _ := fileTime(names[0])
		r := Result{Time: t, File: names[0]}
		if fi, err := os.Stat(filepath.Join(s.cfg.Dir, names[0])); err == nil {
			r.Size = fi.Size()
		}
		s.mu.Lock()
		s.last, s.have = r, true
		s.mu.Unlock()
		wait = max(0, t.Add(s.cfg.Every).Sub(s.cfg.Clock.Now()))
	}
	go s.loop(ctx, wait)
}

func (s *Scheduler) loop(ctx context.Context, wait time.Duration) {
	defer close(s.done)
	for {
		t := s.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		wait = s.cfg.Every
		if r := s.RunOnce(ctx); !r.OK() {
			wait = min(s.cfg.Every, retryAfter)
		}
	}
}

// RunOnce takes one backup now, prunes the old ones if it succeeded, and
// records the result.
func (s *Scheduler) RunOnce(ctx context.Context) Result {
	now := s.cfg.Clock.Now()
	name := fileName(now)
	r := Result{Time: now.UTC(), File: name}
	err := os.MkdirAll(s.cfg.Dir, 0o700)
	var sum Summary
	if err == nil {
		sum, err = s.cfg.Write(ctx, filepath.Join(s.cfg.Dir, name))
	}
	s.mu.Lock()
	r.Runs, r.Failures = s.last.Runs+1, s.last.Failures
	if err != nil {
		r.Error = err.Error()
		r.Failures++
	} else {
		r.Size = sum.Size
	}
	s.last, s.have = r, true
	s.mu.Unlock()
	if err != nil {
		s.log.Error("scheduled backup failed", "file", name, "err", err)
		return r
	}
	s.log.Info("scheduled backup written and verified", "file", name, "bytes", sum.Size, "records", sum.Records)
	s.prune()
	return r
}

// prune removes the backups beyond Keep and the leftovers of backups cut
// short by a crash (only this scheduler writes into its directory).
func (s *Scheduler) prune() {
	names := backups(s.cfg.Dir)
	var drop []string
	if len(names) > s.cfg.Keep {
		drop = names[s.cfg.Keep:]
	}
	left, _ := filepath.Glob(filepath.Join(s.cfg.Dir, "difronte-*Z.backup.tmp"))
	spools, _ := filepath.Glob(filepath.Join(s.cfg.Dir, ".difronte-spool-*"))
	for _, p := range append(left, spools...) {
		drop = append(drop, filepath.Base(p))
	}
	for _, name := range drop {
		if err := os.Remove(filepath.Join(s.cfg.Dir, name)); err != nil {
			s.log.Warn("remove an old backup", "file", name, "err", err)
		}
	}
}

// Last returns the last backup's result; ok is false before the first one.
func (s *Scheduler) Last() (r Result, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.have
}

// Close stops the schedule, cutting a backup under way short. Idempotent.
func (s *Scheduler) Close() error {
	s.once.Do(func() {
		if s.cancel == nil {
			close(s.done)
			return
		}
		s.cancel()
	})
	<-s.done
	return nil
}
