package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	badgerdb "github.com/dgraph-io/badger"
	"github.com/dgraph-io/badger/options"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	badger "github.com/ipfs/go-ds-badger"
)

// ErrNotFound is returned when a key holds nothing.
var ErrNotFound = ds.ErrNotFound

// Namespace is one component's part of the store, the keys under one
// prefix (Store.Namespace). Domains hold their storage as a Namespace and
// name keys with Key, so only this package (and federation/replica, which
// owns the replica's datastore) imports go-datastore.
type Namespace = ds.Batching

// Key is a key of a Namespace: a slash-separated path.
type Key = ds.Key

// NewKey is the Key of the path s, cleaned as go-datastore cleans it.
func NewKey(s string) Key { return ds.NewKey(s) }

// Store is the node's datastore.
type Store struct {
	ds     ds.Batching
	badger *badger.Datastore // nil for in-memory stores
}

// Options tunes the badger store. The zero value is the production profile.
type Options struct {
	// Memory selects badger's own memory-hungry defaults (mmap tables, five
	// memtables of 64 MiB) instead of the small-machine profile. Only for
	// benchmarks that compare the two.
	StockBadger bool
	// Logger receives badger's warnings and errors (default: discarded).
	Logger *slog.Logger
}

// badgerOptions returns the small-machine profile: go-ds-badger's own
// DefaultOptions (passed explicitly: NewDatastore(path, nil) falls back to
// badger's raw defaults), writes synced, tables read with file I/O instead
// of mmap, small tables and one spare memtable. Measured (docs/NOTES.md): 100k
// records of 1 KB take about 40 MB steady instead of 443 MB, at a lower
// batched write rate; a coop node writes little, so memory wins.
func badgerOptions(o Options) *badger.Options {
	opts := badger.DefaultOptions
	opts.Options.SyncWrites = true
	opts.GcInterval = 10 * time.Minute
	if o.StockBadger {
		return &opts
	}
	opts.Options.TableLoadingMode = options.FileIO
	opts.Options.ValueLogLoadingMode = options.FileIO
	opts.Options.MaxTableSize = 4 << 20
	opts.Options.NumMemtables = 2
	opts.Options.NumLevelZeroTables = 2
	opts.Options.NumLevelZeroTablesStall = 4
	opts.Options.LevelOneSize = 32 << 20
	opts.Options.ValueLogFileSize = 64 << 20
	opts.Options.NumCompactors = 2
	if o.Logger != nil {
		opts.Options.Logger = slogBadger{o.Logger}
	} else {
		opts.Options.Logger = slogBadger{slog.New(slog.DiscardHandler)}
	}
	return &opts
}

// Open opens (or creates) the badger store in dir.
func Open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	b, err := badger.NewDatastore(dir, badgerOptions(o))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return &Store{ds: b, badger: b}, nil
}

// NewMemory returns a store held in memory, for tests.
func NewMemory() *Store {
	return &Store{ds: dssync.MutexWrap(ds.NewMapDatastore())}
}

// Wrap uses an existing datastore, for operators who move the store to
// another go-datastore backend.
func Wrap(d ds.Batching) *Store { return &Store{ds: d} }

// Datastore returns the whole datastore.
func (s *Store) Datastore() ds.Batching { return s.ds }

// Namespace returns the part of the store under prefix.
//
// It is a Sub of the whole datastore, so a transaction begun on any
// namespace of the store can write into every other (store.Begin): a
// change and its audit event in one synced write.
func (s *Store) Namespace(prefix string) Namespace {
	return NewSub(s.ds, prefix)
}

// Ping reports whether the store answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.ds.Has(ctx, ds.NewKey("/ping"))
	return err
}

// Close closes the store.
func (s *Store) Close() error { return s.ds.Close() }

// Backup writes a full backup of the badger store to w, in badger's
// backup format. It reads one snapshot (a single read transaction: a
// running node keeps writing beside it and the backup is still consistent)
// with one goroutine, so the keys come in order and a reader can check the
// audit chain in one pass (ReadBackup). badger's own DB.Backup streams with
// sixteen goroutines, each with its own transaction, in no order.
func (s *Store) Backup(w io.Writer) error {
	if s.badger == nil {
		return errors.New("backup needs a badger store")
	}
	stream := s.badger.DB.NewStream()
	stream.NumGo = 1
	stream.LogPrefix = "store.Backup"
	_, err := stream.Backup(w, 0)
	return err
}

// Restore loads a backup written by Backup into an empty store.
func (s *Store) Restore(r io.Reader) error {
	if s.badger == nil {
		return errors.New("restore needs a badger store")
	}
	return s.badger.DB.Load(r, 256)
}

// Empty reports whether dir holds no store yet.
func Empty(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	s, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	return len(m) == 0 && len(s) == 0
}

// GetJSON reads key into v.
func GetJSON(ctx context.Context, d ds.Read, key string, v any) error {
	b, err := d.Get(ctx, ds.NewKey(key))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// PutJSON writes v at key.
func PutJSON(ctx context.Context, d ds.Write, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return d.Put(ctx, ds.NewKey(key), b)
}

// Each calls fn with the key and value of every entry under prefix, in key order.
func Each(ctx context.Context, d ds.Read, prefix string, fn func(key string, value []byte) error) error {
	res, err := d.Query(ctx, dsq.Query{Prefix: prefix, Orders: []dsq.Order{dsq.OrderByKey{}}})
	if err != nil {
		return err
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return r.Error
		}
		if err := fn(r.Key, r.Value); err != nil {
			return err
		}
	}
	return nil
}

// slogBadger routes badger's logging into slog: its info chatter at debug,
// warnings and errors as such.
type slogBadger struct{ l *slog.Logger }

func (b slogBadger) Errorf(f string, a ...any) {
	b.l.Error("badger", "msg", strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b slogBadger) Warningf(f string, a ...any) {
	b.l.Warn("badger", "msg", strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b slogBadger) Infof(f string, a ...any) {
	b.l.Debug("badger", "msg", strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b slogBadger) Debugf(f string, a ...any) {
	b.l.Debug("badger", "msg", strings.TrimSpace(fmt.Sprintf(f, a...)))
}

var _ badgerdb.Logger = slogBadger{}
