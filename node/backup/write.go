package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/difronte/difronte/node/store"
)

// Write writes a backup of the node whose key file holds key and whose
// store is st to path, checks the written file with Verify and only then
// moves it to path. st may be serving: the store is read from one
// snapshot. A failed Write leaves no file at path. Ending ctx stops it.
func Write(ctx context.Context, path string, key []byte, st *store.Store, now time.Time, o Options) (Summary, error) {
	dir := filepath.Dir(path)
	// The store stream's size and digests are needed before the archive:
	// spool it beside the backup first.
	spool, err := os.CreateTemp(dir, ".difronte-spool-*")
	if err != nil {
		return Summary{}, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if err := st.Backup(ctxWriter{ctx, spool}); err != nil {
		return Summary{}, fmt.Errorf("back up store: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return Summary{}, err
	}
	sr := newHashingReader(spool)
	info, err := scanStore(sr, o.AuditPrefix, true)
	if err != nil {
		return Summary{}, fmt.Errorf("the store's own backup stream does not read back: %w", err)
	}
	kr := newHashingReader(bytesReader(key))
	io.Copy(io.Discard, kr)
	m := manifest{Format: formatV2, Created: now.UTC().Truncate(time.Second),
		Sections: []section{kr.section(entryKey), sr.section(entryStore)},
		Records:  info.records, Audit: chainHead{Events: info.events, Head: info.head}}

	tmp := path + ".tmp"
	if err := writeFile(tmp, m, key, spool); err != nil {
		os.Remove(tmp)
		return Summary{}, err
	}
	s, err := Verify(tmp, o)
	if err == nil && (s.Records != m.Records || s.AuditHead != m.Audit.Head) {
		err = errors.New("the written backup reads back different")
	}
	if err != nil {
		os.Remove(tmp)
		return Summary{}, fmt.Errorf("check the written backup: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return Summary{}, err
	}
	return s, syncDir(dir)
}

// writeFile writes the archive to path, then the whole-file digest into
// its gzip header, and syncs it.
func writeFile(path string, m manifest, key []byte, spool *os.File) error {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fh := newFileHash()
	gz, err := gzip.NewWriterLevel(io.MultiWriter(f, fh), gzip.DefaultCompression)
	if err != nil {
		return err
	}
	gz.Header = gzip.Header{Extra: headerExtra(), OS: 255}
	tw := tar.NewWriter(gz)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: m.Created}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	st, _ := m.section(entryStore)
	line := formatLine(formatV2)
	for _, e := range []struct {
		name string
		size int64
		r    io.Reader
	}{
		{entryFormat, int64(len(line)), bytesReader([]byte(line))},
		{entryManifest, int64(len(mj)), bytesReader(mj)},
		{entryKey, int64(len(key)), bytesReader(key)},
		{entryStore, st.Size, spool},
	} {
		if err := add(e.name, e.size, e.r); err != nil {
			return fmt.Errorf("write backup %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if _, err := f.WriteAt(fh.Sum(), digestOffset); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// ctxWriter fails once ctx ends, which stops the store's stream.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
