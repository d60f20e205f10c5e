package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/store"
)

// MarkerFile is the file a restore writes into a data directory before it
// moves anything there, and removes last. A directory that holds it, or
// that has a restore's staging directory beside it, is refused by
// CheckComplete.
const MarkerFile = "RESTORE-INCOMPLETE"

// ErrIncomplete: a restore into the directory started and did not finish.
var ErrIncomplete = errors.New("a restore did not complete")

// errStopped is what Restore returns when a test stops it between steps.
var errStopped = errors.New("restore stopped (test)")

// Restore verifies the backup at path completely, then restores it into
// the data directory dir, which must hold no node. Nothing is written
// before the file has been verified. The backup is loaded into a staging
// directory (beside dir when dir does not exist yet, inside it when it
// does: a mount point cannot be replaced) and checked again once loaded
// (whole-file checksum, sections, audit chain and head); only then is it
// moved into place, under MarkerFile. The remains of an interrupted
// restore are cleared first (Summary.Cleared).
func Restore(path, dir string, o Options) (Summary, error) {
	dir = filepath.Clean(dir)
	cleared, err := clearInterrupted(dir, o)
	if err != nil {
		return Summary{}, err
	}
	if err := checkEmpty(dir, o); err != nil {
		return Summary{}, err
	}
	s, err := Verify(path, o)
	if err != nil {
		return Summary{}, err
	}
	r := &restore{path: path, dir: dir, o: o, want: s}
	if err := r.run(); err != nil {
		if !errors.Is(err, errStopped) {
			r.undo()
		}
		return Summary{}, err
	}
	r.got.Cleared = cleared
	return r.got, nil
}

// restore is one restore under way.
type restore struct {
	path, dir string
	o         Options
	want, got Summary
	stage     string // the staging directory
	inside    bool   // stage is inside dir (dir existed)
	moved     []string
}

func (r *restore) run() error {
	if err := r.makeStage(); err != nil {
		return err
	}
	if err := r.load(); err != nil {
		return err
	}
	if err := r.checkLoaded(); err != nil {
		return err
	}
	if r.o.stop == "staged" {
		return errStopped
	}
	if err := r.install(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(r.dir, MarkerFile)); err != nil {
		return err
	}
	return syncDir(r.dir)
}

// makeStage creates the staging directory and puts the marker down first.
func (r *restore) makeStage() error {
	parent, base := filepath.Dir(r.dir), filepath.Base(r.dir)
	if fi, err := os.Stat(r.dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", r.dir)
		}
		r.inside = true
		if err := writeMarker(r.dir); err != nil {
			return err
		}
		r.stage, err = os.MkdirTemp(r.dir, ".restore-")
		return err
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	var err error
	if r.stage, err = os.MkdirTemp(parent, "."+base+".restore-"); err != nil {
		return err
	}
	return writeMarker(r.stage)
}

func writeMarker(dir string) error {
	const text = "A difronte restore into this directory started and did not complete.\n" +
		"Run the restore again: it clears what is here first.\n"
	if err := os.WriteFile(filepath.Join(dir, MarkerFile), []byte(text), 0o600); err != nil {
		return err
	}
	return syncDir(dir)
}

// load reads the backup again into the staging directory, rechecking
// every checksum on the way: the file may have changed since Verify.
func (r *restore) load() error {
	f, err := os.Open(r.path)
	if err != nil {
		return err
	}
	defer f.Close()
	version, digest, err := readHeader(f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	fh := newFileHash()
	sk := &loadSink{dir: r.stage, o: r.o}
	r.got, err = walk(io.TeeReader(f, fh), version, r.o, sk)
	if err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	if _, err := io.Copy(fh, f); err != nil {
		return err
	}
	if version == formatV2 && string(fh.Sum()) != string(digest) {
		return fmt.Errorf("%s: %w: the file changed while it was restored", r.path, ErrDamaged)
	}
	r.got.Size, r.got.Records = r.want.Size, r.want.Records
	return nil
}

// loadSink writes the key and loads the store into a staging directory.
type loadSink struct {
	dir string
	o   Options
}

func (l *loadSink) key(b []byte) error {
	f, err := os.OpenFile(filepath.Join(l.dir, l.o.KeyFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (l *loadSink) store(r io.Reader) (storeInfo, error) {
	st, err := store.Open(filepath.Join(l.dir, l.o.StoreDir), store.Options{})
	if err != nil {
		return storeInfo{}, err
	}
	err = st.Restore(r)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return storeInfo{}, fmt.Errorf("%w: load store: %v", ErrDamaged, err)
	}
	return storeInfo{}, nil
}

// checkLoaded opens the loaded store's audit log and walks its chain: it
// must hold, and end at the head the backup named (a legacy backup names
// none: its chain is checked here for the first time).
func (r *restore) checkLoaded() error {
	st, err := store.Open(filepath.Join(r.stage, r.o.StoreDir), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	l, err := audit.Open(ctx, st.Namespace(r.o.AuditPrefix), nil, nil)
	if err != nil {
		return fmt.Errorf("%w: restored audit log: %v", ErrDamaged, err)
	}
	defer l.Close()
	n, err := l.Verify(ctx)
	if err != nil {
		return fmt.Errorf("%w: restored audit log: %v", ErrDamaged, err)
	}
	seq, head := l.Head()
	if n != seq || (!r.want.Legacy && (seq != r.want.AuditEvents || head != r.want.AuditHead)) {
		return fmt.Errorf("%w: the restored audit log ends at event %d, the backup at %d", ErrDamaged, seq, r.want.AuditEvents)
	}
	r.got.AuditEvents, r.got.AuditHead = seq, head
	return nil
}

// install moves the staged node into place.
func (r *restore) install() error {
	if !r.inside {
		if err := os.Rename(r.stage, r.dir); err != nil {
			return err
		}
		r.moved = append(r.moved, r.dir)
		if err := syncDir(filepath.Dir(r.dir)); err != nil {
			return err
		}
		if r.o.stop == "moved" {
			return errStopped
		}
		return nil
	}
	// checkEmpty let through only a store directory without data.
	if err := os.RemoveAll(filepath.Join(r.dir, r.o.StoreDir)); err != nil {
		return err
	}
	for i, name := range []string{r.o.StoreDir, r.o.KeyFile} {
		if err := os.Rename(filepath.Join(r.stage, name), filepath.Join(r.dir, name)); err != nil {
			return err
		}
		r.moved = append(r.moved, filepath.Join(r.dir, name))
		if i == 0 && r.o.stop == "moved" {
			return errStopped
		}
	}
	return os.RemoveAll(r.stage)
}

// undo removes what a failed restore wrote.
func (r *restore) undo() {
	for _, p := range r.moved {
		os.RemoveAll(p)
	}
	if r.stage != "" {
		os.RemoveAll(r.stage)
	}
	if r.inside {
		os.Remove(filepath.Join(r.dir, MarkerFile))
	}
}

// remains lists what an interrupted restore into dir left: the marker in
// dir, staging directories inside it and beside it.
func remains(dir string) []string {
	var out []string
	if _, err := os.Lstat(filepath.Join(dir, MarkerFile)); err == nil {
		out = append(out, filepath.Join(dir, MarkerFile))
	}
	in, _ := filepath.Glob(filepath.Join(dir, ".restore-*"))
	beside, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".restore-*"))
	return append(append(out, in...), beside...)
}

// CheckComplete returns an error wrapping ErrIncomplete when a restore
// into dir started and did not finish: a node must not open it.
func CheckComplete(dir string) error {
	dir = filepath.Clean(dir)
	if r := remains(dir); len(r) > 0 {
		return fmt.Errorf("%w: %s holds a restore that was interrupted (%s is there): run the restore again with the same backup, it clears what the interrupted one left first", ErrIncomplete, dir, r[0])
	}
	return nil
}

// clearInterrupted removes what an interrupted restore into dir left:
// under the marker the key and the store are the restore's own, never a
// node's. The marker goes last.
func clearInterrupted(dir string, o Options) (bool, error) {
	r := remains(dir)
	if len(r) == 0 {
		return false, nil
	}
	marker := filepath.Join(dir, MarkerFile)
	_, err := os.Lstat(marker)
	hasMarker := err == nil
	if hasMarker {
		r = append(r, filepath.Join(dir, o.StoreDir), filepath.Join(dir, o.KeyFile))
	}
	for _, p := range r {
		if p == marker {
			continue
		}
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, fmt.Errorf("clear an interrupted restore: %w", err)
		}
	}
	if hasMarker {
		if err := os.Remove(marker); err != nil {
			return true, fmt.Errorf("clear an interrupted restore: %w", err)
		}
	}
	return true, nil
}

// checkEmpty refuses a data directory that holds a node.
func checkEmpty(dir string, o Options) error {
	if _, err := os.Stat(filepath.Join(dir, o.KeyFile)); err == nil {
		return fmt.Errorf("%s already holds a node: restore needs an empty data directory", dir)
	}
	if !store.Empty(filepath.Join(dir, o.StoreDir)) {
		return fmt.Errorf("%s already holds a store: restore needs an empty data directory", dir)
	}
	return nil
}
