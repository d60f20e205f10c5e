package node

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/store"
)

// Backup format: a gzip'd tar holding "difronte-backup" (a format marker),
// "node.key" (the identity) and "store.badger" (badger's own backup stream
// of every key). The node must be stopped: badger locks its directory, so a
// running node makes Backup fail instead of copying a store mid-write.
const backupMarker = "difronte-backup v1\n"

// Backup writes the data directory's identity and store to file out and
// returns its size.
func Backup(dataDir, out string) (int64, error) {
	key, err := os.ReadFile(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return 0, fmt.Errorf("read node key: %w", err)
	}
	sdir := filepath.Join(dataDir, "store")
	if store.Empty(sdir) {
		return 0, fmt.Errorf("no store in %s", dataDir)
	}
	st, err := store.Open(sdir, store.Options{})
	if err != nil {
		return 0, fmt.Errorf("open store (is the node still running?): %w", err)
	}
	defer st.Close()

	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	// The CLI takes a backup of a stopped node: its files carry the wall
	// clock's time.
	now := clock.Real{}.Now()
	add := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := add("difronte-backup", []byte(backupMarker)); err != nil {
		return 0, err
	}
	if err := add(KeyFile, key); err != nil {
		return 0, err
	}
	// The badger stream's size is unknown until written: spool it to a
	// temporary file first, tar needs sizes up front.
	spool, err := os.CreateTemp(filepath.Dir(out), ".difronte-spool-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if err := st.Backup(spool); err != nil {
		return 0, fmt.Errorf("back up store: %w", err)
	}
	size, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "store.badger", Mode: 0o600, Size: size, ModTime: now}); err != nil {
		return 0, err
	}
	if _, err := io.Copy(tw, spool); err != nil {
		return 0, err
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := gz.Close(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return 0, err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Restore unpacks a backup into dataDir, which must hold no node yet.
func Restore(in, dataDir string) error {
	if _, err := os.Stat(filepath.Join(dataDir, KeyFile)); err == nil {
		return fmt.Errorf("%s already holds a node: restore needs an empty data directory", dataDir)
	}
	sdir := filepath.Join(dataDir, "store")
	if !store.Empty(sdir) {
		return fmt.Errorf("%s already holds a store: restore needs an empty data directory", dataDir)
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s is not a difronte backup: %w", in, err)
	}
	tr := tar.NewReader(gz)
	var sawMarker, sawKey, sawStore bool
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read backup: %w", err)
		}
		switch h.Name {
		case "difronte-backup":
			b, err := io.ReadAll(io.LimitReader(tr, 64))
			if err != nil || string(b) != backupMarker {
				return fmt.Errorf("%s: unknown backup format", in)
			}
			sawMarker = true
		case KeyFile:
			if !sawMarker {
				return fmt.Errorf("%s is not a difronte backup", in)
			}
			b, err := io.ReadAll(io.LimitReader(tr, 4096))
			if err != nil {
				return err
			}
			if _, err := parseKey(b); err != nil {
				return fmt.Errorf("backup holds a bad node key: %w", err)
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dataDir, KeyFile), b, 0o600); err != nil {
				return err
			}
			sawKey = true
		case "store.badger":
			if !sawKey {
				return fmt.Errorf("%s is not a difronte backup", in)
			}
			st, err := store.Open(sdir, store.Options{})
			if err != nil {
				return err
			}
			err = st.Restore(tr)
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("restore store: %w", err)
			}
			sawStore = true
		default:
			return fmt.Errorf("backup holds an unknown entry %q", h.Name)
		}
	}
	if !sawStore {
		return fmt.Errorf("%s is incomplete: no store", in)
	}
	return nil
}
