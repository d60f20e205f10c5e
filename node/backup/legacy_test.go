package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/difronte/difronte/node/backup"
)

// writeLegacy writes a version 1 backup the way earlier releases did: a
// gzip'd tar of the format line, the key and the store stream, nothing
// else.
func writeLegacy(t *testing.T, root string) string {
	t.Helper()
	st := seed(t, filepath.Join(root, "src"), 40)
	var stream bytes.Buffer
	if err := st.Backup(&stream); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	tw := tar.NewWriter(gz)
	for _, e := range []struct {
		name string
		b    []byte
	}{{"difronte-backup", []byte("difronte-backup v1\n")}, {"node.key", testKey}, {"store.badger", stream.Bytes()}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.b)), ModTime: time.Now()})
		tw.Write(e.b)
	}
	tw.Close()
	gz.Close()
	path := filepath.Join(root, "old.backup")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLegacyBackup: a version 1 file is read with a warning (Legacy), its
// audit chain checked once loaded; damage its compression checksum
// catches is refused before anything is written.
func TestLegacyBackup(t *testing.T) {
	root := t.TempDir()
	path := writeLegacy(t, root)
	s, err := backup.Verify(path, opts)
	if err != nil || !s.Legacy || s.Records != 91 || s.Node != "node-one" {
		t.Fatalf("verify legacy: %+v %v", s, err)
	}
	if s, err = backup.Restore(path, filepath.Join(root, "dst"), opts); err != nil || s.AuditEvents != 40 || !s.Legacy {
		t.Fatalf("restore legacy: %+v %v", s, err)
	}

	good, _ := os.ReadFile(path)
	middle := bytes.Clone(good)
	middle[len(middle)/2] ^= 0x01
	for name, data := range map[string][]byte{"flipped": middle, "truncated": good[:len(good)*2/3]} {
		bad := filepath.Join(root, name+".backup")
		os.WriteFile(bad, data, 0o600)
		if _, err := backup.Verify(bad, opts); !errors.Is(err, backup.ErrDamaged) {
			t.Fatalf("%s legacy: verify %v", name, err)
		}
		dst := filepath.Join(root, name)
		if _, err := backup.Restore(bad, dst, opts); !errors.Is(err, backup.ErrDamaged) {
			t.Fatalf("%s legacy: restore %v", name, err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Fatalf("%s legacy: the refused restore created %s", name, dst)
		}
	}
}
