package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/backup"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Where a data directory keeps the store, and the audit log's namespace
// in it: what a backup holds.
const (
	storeDir       = "store"
	auditNamespace = "/audit"
)

// BackupConfig turns on the node's own backups (zero Dir: off).
type BackupConfig struct {
	Dir   string        // directory the backups go to
	Every time.Duration // default 24 h
	Keep  int           // backups kept, default 7
}

// backupOptions tells the backup package the layout of a data directory.
func backupOptions() backup.Options {
	return backup.Options{KeyID: keyID, AuditPrefix: auditNamespace, KeyFile: KeyFile, StoreDir: storeDir}
}

// keyID checks a node key file's bytes and returns the node's peer id.
func keyID(b []byte) (string, error) {
	k, err := parseKey(b)
	if err != nil {
		return "", err
	}
	return schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey)), nil
}

// Backup writes a backup of the stopped node in dataDir to file out and
// checks it (backup.Write). A running node is backed up by its own
// schedule (Config.Backup) instead: badger locks its directory.
func Backup(dataDir, out string) (backup.Summary, error) {
	if err := backup.CheckComplete(dataDir); err != nil {
		return backup.Summary{}, err
	}
	key, err := os.ReadFile(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return backup.Summary{}, fmt.Errorf("read node key: %w", err)
	}
	sdir := filepath.Join(dataDir, storeDir)
	if store.Empty(sdir) {
		return backup.Summary{}, fmt.Errorf("no store in %s", dataDir)
	}
	st, err := store.Open(sdir, store.Options{})
	if err != nil {
		return backup.Summary{}, fmt.Errorf("open store (is the node still running?): %w", err)
	}
	defer st.Close()
	// The CLI backs up a stopped node: its file carries the wall clock's time.
	return backup.Write(context.Background(), out, key, st, clock.Real{}.Now(), backupOptions())
}

// VerifyBackup checks the backup file in completely without restoring it.
func VerifyBackup(in string) (backup.Summary, error) { return backup.Verify(in, backupOptions()) }

// Restore verifies the backup file in and restores it into dataDir, which
// must hold no node yet (backup.Restore).
func Restore(in, dataDir string) (backup.Summary, error) {
	return backup.Restore(in, dataDir, backupOptions())
}

// startBackups starts the node's own backups when configured.
func (n *Node) startBackups() error {
	c := n.cfg.Backup
	if c.Dir == "" {
		return nil
	}
	if c.Every <= 0 {
		c.Every = 24 * time.Hour
	}
	if c.Keep <= 0 {
		c.Keep = 7
	}
	key, err := encodeKey(n.key)
	if err != nil {
		return err
	}
	n.backups = backup.NewScheduler(backup.Schedule{Dir: c.Dir, Every: c.Every, Keep: c.Keep, Clock: n.cfg.Clock, Logger: n.log,
		Write: func(ctx context.Context, path string) (backup.Summary, error) {
			return backup.Write(ctx, path, key, n.store, n.cfg.Clock.Now(), backupOptions())
		}})
	n.backups.Start()
	n.lc.add("scheduled backups", n.backups.Close)
	return nil
}

// lastBackup is the admin home page's view of the schedule; nil when off.
func (n *Node) lastBackup() func() (backup.Result, bool) {
	if n.backups == nil {
		return nil
	}
	return n.backups.Last
}

// Backups returns the node's backup schedule, nil when off.
func (n *Node) Backups() *backup.Scheduler { return n.backups }

// backupMetrics exports the last scheduled backup's outcome: times, size
// and counts, nothing about the data it holds.
func (n *Node) backupMetrics() []prometheus.Collector {
	if n.backups == nil {
		return nil
	}
	last := func(f func(r backup.Result) float64) func() float64 {
		return func() float64 {
			r, ok := n.backups.Last()
			if !ok {
				return 0
			}
			return f(r)
		}
	}
	gauge := func(name, help string, f func(r backup.Result) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, last(f))
	}
	counter := func(name, help string, f func(r backup.Result) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, last(f))
	}
	return []prometheus.Collector{
		gauge("difronte_backup_last_timestamp_seconds", "Time of the last scheduled backup (Unix seconds).",
			func(r backup.Result) float64 { return float64(r.Time.Unix()) }),
		gauge("difronte_backup_last_ok", "1 when the last scheduled backup was written and verified, 0 when it failed.",
			func(r backup.Result) float64 { return boolFloat(r.OK()) }),
		gauge("difronte_backup_last_size_bytes", "Size of the last scheduled backup file.",
			func(r backup.Result) float64 { return float64(r.Size) }),
		counter("difronte_backup_runs_total", "Scheduled backups attempted since the node started.",
			func(r backup.Result) float64 { return float64(r.Runs) }),
		counter("difronte_backup_failures_total", "Scheduled backups that failed since the node started.",
			func(r backup.Result) float64 { return float64(r.Failures) }),
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
