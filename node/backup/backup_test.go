package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/backup"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// opts is a data directory's layout with a stand-in key format: a key
// file is "key:" followed by the node's id.
var opts = backup.Options{
	KeyID: func(b []byte) (string, error) {
		id, ok := strings.CutPrefix(string(b), "key:")
		if !ok || id == "" {
			return "", errors.New("not a key")
		}
		return id, nil
	},
	AuditPrefix: "/audit", KeyFile: "node.key", StoreDir: "store",
}

var testKey = []byte("key:node-one")

// seed opens a store in dir and fills it: records in two namespaces,
// one of them deleted again, and an audit chain of events.
func seed(t *testing.T, dir string, events int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := st.Namespace("/care").Put(ctx, store.NewKey(fmt.Sprintf("/b/%03d", i)), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	st.Namespace("/care").Delete(ctx, store.NewKey("/b/007"))
	st.Namespace("/own").Put(ctx, store.NewKey("/o/1"), []byte(`{"o":1}`))
	l, err := audit.Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := l.Record(ctx, audit.Event{Actor: "admin", Action: audit.Create, Kind: "beneficiary", Object: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return st
}

// writeBackup writes a backup of a seeded store and returns its path.
func writeBackup(t *testing.T, root string) string {
	t.Helper()
	st := seed(t, filepath.Join(root, "src"), 40)
	defer st.Close()
	path := filepath.Join(root, "node.backup")
	s, err := backup.Write(context.Background(), path, testKey, st, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 49+1+40+1 || s.AuditEvents != 40 || s.Node != "node-one" || s.Legacy {
		t.Fatalf("summary %+v", s)
	}
	return path
}

// entries lists everything a directory holds, recursively.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			out = append(out, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return out
}

func TestRoundTrip(t *testing.T) {
	root := t.TempDir()
	path := writeBackup(t, root)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	if left := entries(t, root); len(left) == 0 || strings.Contains(strings.Join(left, " "), "spool") || strings.Contains(strings.Join(left, " "), ".tmp") {
		t.Fatalf("writing left %v", left)
	}
	// The file is a plain tar.gz for any tool.
	f, _ := os.Open(path)
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	f.Close()
	if got := strings.Join(names, ","); got != "difronte-backup,manifest.json,node.key,store.badger" {
		t.Fatalf("archive holds %s", got)
	}

	for _, existing := range []bool{false, true} {
		dst := filepath.Join(root, fmt.Sprintf("dst-%v", existing))
		if existing {
			os.Mkdir(dst, 0o700)
		}
		s, err := backup.Restore(path, dst, opts)
		if err != nil {
			t.Fatal(err)
		}
		if s.AuditEvents != 40 || s.Records != 91 || s.Cleared {
			t.Fatalf("restore summary %+v", s)
		}
		if err := backup.CheckComplete(dst); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(topLevel(t, dst), ","); got != "node.key,store" {
			t.Fatalf("restored directory holds %s", got)
		}
		if siblings := strings.Join(topLevel(t, root), ","); strings.Contains(siblings, ".restore-") {
			t.Fatalf("beside the restore: %v", siblings)
		}
		st, err := store.Open(filepath.Join(dst, "store"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.Namespace("/care").Get(context.Background(), store.NewKey("/b/049"))
		if string(v) != `{"n":49}` {
			t.Fatalf("restored record: %q %v", v, err)
		}
		if has, _ := st.Namespace("/care").Has(context.Background(), store.NewKey("/b/007")); has {
			t.Fatal("a deleted record came back")
		}
		st.Close()
	}
}

func topLevel(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestDamagedBackupsRefused: a flipped byte anywhere, a cut file, bytes
// appended, a file that is no backup: Verify and Restore both refuse, and
// the target directory is untouched (missing stays missing, an empty one
// stays empty), with nothing left beside it.
func TestDamagedBackupsRefused(t *testing.T) {
	root := t.TempDir()
	good, err := os.ReadFile(writeBackup(t, root))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x01
		return b
	}
	var plain bytes.Buffer
	gz := gzip.NewWriter(&plain)
	gz.Write([]byte("hello"))
	gz.Close()
	cases := map[string]struct {
		data []byte
		want error
	}{
		"flipped gzip header":     {flip(4), backup.ErrDamaged},
		"flipped digest":          {flip(30), backup.ErrDamaged},
		"flipped first data byte": {flip(49), backup.ErrDamaged},
		"flipped middle":          {flip(len(good) / 2), backup.ErrDamaged},
		"flipped last byte":       {flip(len(good) - 1), backup.ErrDamaged},
		"truncated to half":       {good[:len(good)/2], backup.ErrDamaged},
		"truncated by one":        {good[:len(good)-1], backup.ErrDamaged},
		"truncated in header":     {good[:20], backup.ErrNotBackup},
		"appended":                {append(bytes.Clone(good), 0), backup.ErrDamaged},
		"empty":                   {nil, backup.ErrNotBackup},
		"text":                    {[]byte("not a backup"), backup.ErrNotBackup},
		"other gzip":              {plain.Bytes(), backup.ErrNotBackup},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "bad.backup")
			os.WriteFile(path, c.data, 0o600)
			if _, err := backup.Verify(path, opts); !errors.Is(err, c.want) {
				t.Fatalf("verify: %v, want %v", err, c.want)
			}
			missing, empty := filepath.Join(dir, "missing"), filepath.Join(dir, "empty")
			os.Mkdir(empty, 0o700)
			for _, dst := range []string{missing, empty} {
				if _, err := backup.Restore(path, dst, opts); !errors.Is(err, c.want) {
					t.Fatalf("restore into %s: %v, want %v", dst, err, c.want)
				}
			}
			if _, err := os.Stat(missing); err == nil {
				t.Fatal("a refused restore created the data directory")
			}
			if left := entries(t, empty); len(left) != 0 {
				t.Fatalf("a refused restore left %v", left)
			}
			if got := strings.Join(topLevel(t, dir), ","); got != "bad.backup,empty" {
				t.Fatalf("beside the target: %s", got)
			}
		})
	}
}

// TestInterruptedRestore: a restore cut short after loading, or in the
// middle of moving into place, leaves a directory CheckComplete refuses
// with a clear reason; the next restore clears it and completes.
func TestInterruptedRestore(t *testing.T) {
	root := t.TempDir()
	path := writeBackup(t, root)
	for _, existing := range []bool{false, true} {
		for _, step := range []string{"staged", "moved"} {
			t.Run(fmt.Sprintf("%s existing=%v", step, existing), func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "data")
				if existing {
					os.Mkdir(dst, 0o700)
				}
				if _, err := backup.Restore(path, dst, backup.StopAfter(opts, step)); err == nil {
					t.Fatal("the stopped restore reported success")
				}
				err := backup.CheckComplete(dst)
				if !errors.Is(err, backup.ErrIncomplete) || !strings.Contains(err.Error(), "run the restore again") {
					t.Fatalf("check after an interrupted restore: %v", err)
				}
				s, err := backup.Restore(path, dst, opts)
				if err != nil || !s.Cleared {
					t.Fatalf("restore again: %+v %v", s, err)
				}
				if err := backup.CheckComplete(dst); err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(topLevel(t, dst), ","); got != "node.key,store" {
					t.Fatalf("restored directory holds %s", got)
				}
				if got := topLevel(t, filepath.Dir(dst)); len(got) != 1 {
					t.Fatalf("beside the data directory: %v", got)
				}
			})
		}
	}
}

// TestRestoreRefusesANode: a directory with a node stays as it is.
func TestRestoreRefusesANode(t *testing.T) {
	root := t.TempDir()
	path := writeBackup(t, root)
	src := filepath.Join(root, "src")
	os.WriteFile(filepath.Join(src, "node.key"), testKey, 0o600)
	if _, err := backup.Restore(path, src, opts); err == nil || !strings.Contains(err.Error(), "restore needs an empty data directory") {
		t.Fatalf("restore over a node: %v", err)
	}
	if got := strings.Join(topLevel(t, src), ","); !strings.Contains(got, "node.key") || strings.Contains(got, backup.MarkerFile) {
		t.Fatalf("the node's directory holds %s", got)
	}
}

// TestBackupWhileWriting: a backup of a store that is being written is
// one snapshot: its audit chain holds and ends at its manifest's head.
func TestBackupWhileWriting(t *testing.T) {
	root := t.TempDir()
	st := seed(t, filepath.Join(root, "src"), 10)
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := audit.Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			l.Record(ctx, audit.Event{Actor: "admin", Action: audit.Update, Kind: "beneficiary", Object: fmt.Sprint(i)})
			st.Namespace("/care").Put(ctx, store.NewKey(fmt.Sprintf("/w/%06d", i)), []byte("{}"))
		}
	}()
	for i := range 5 {
		path := filepath.Join(root, fmt.Sprintf("b%d.backup", i))
		s, err := backup.Write(context.Background(), path, testKey, st, time.Now(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if s, err = backup.Restore(path, filepath.Join(root, fmt.Sprint("dst", i)), opts); err != nil || s.AuditEvents < 10 {
			t.Fatalf("restore of a running store's backup: %+v %v", s, err)
		}
	}
	cancel()
	<-done
	l.Close()
}
