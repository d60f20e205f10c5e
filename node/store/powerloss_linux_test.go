package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ds "github.com/ipfs/go-datastore"
)

// powerLossDisk is an ext4 file system on a loop device over an image
// file. What the file system has written to the device is in the image;
// what it holds only in the page cache is not. Copying the image while the
// file system is still mounted gives the disk as a power cut would leave
// it: synced writes on it, unsynced ones lost.
type powerLossDisk struct {
	t   *testing.T
	img string
}

// needPowerLossDisk skips unless the test can mount loop devices: root,
// the loop driver, ext4 and the mount and mkfs tools. In CI (CI set, as
// .ci/run sets it on a root Debian machine) a missing one fails the test
// instead: the power-loss guarantee must not go unchecked by a silent skip.
func needPowerLossDisk(t *testing.T) {
	t.Helper()
	missing := func(why ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatal(append([]any{"CI must run the power-loss test, but it"}, why...)...)
		}
		t.Skip(why...)
	}
	if os.Geteuid() != 0 {
		missing("needs root to mount a loop device")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		missing("the kernel has no loop device driver:", err)
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil || !bytes.Contains(fs, []byte("\text4\n")) {
		missing("the kernel has no ext4")
	}
	for _, tool := range []string{"mkfs.ext4", "mount", "umount"} {
		if toolPath(tool) == "" {
			missing("needs " + tool)
		}
	}
}

// toolPath finds a system tool on PATH or, as a minimal PATH leaves out
// the sbin directories that hold mkfs.ext4, in them; "" if it is nowhere.
func toolPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func runCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(toolPath(name), args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func newPowerLossDisk(t *testing.T) *powerLossDisk {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(128 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runCmd(t, "mkfs.ext4", "-q", "-F", img)
	return &powerLossDisk{t: t, img: img}
}

// mount mounts the disk image img and unmounts it when the test ends.
// commit=600 keeps ext4 from committing its journal (and with it the data
// of new blocks) every 5 s: only an fsync puts data on the device.
func (d *powerLossDisk) mount(img string) string {
	d.t.Helper()
	dir := filepath.Join(d.t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		d.t.Fatal(err)
	}
	runCmd(d.t, "mount", "-t", "ext4", "-o", "loop,commit=600", img, dir)
	d.t.Cleanup(func() {
		if out, err := exec.Command(toolPath("umount"), dir).CombinedOutput(); err != nil {
			d.t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// cut copies the image as it is on the device now, as a power cut would
// find it, and returns the copy.
func (d *powerLossDisk) cut() string {
	d.t.Helper()
	out := filepath.Join(d.t.TempDir(), "after-power-loss.img")
	src, err := os.Open(d.img)
	if err != nil {
		d.t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		d.t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		d.t.Fatal(err)
	}
	return out
}

// TestPowerLossKeepsAcknowledgedWrites writes records through the
// production store profile, cuts the power (the disk as the device holds
// it, without the page cache) while the store is still open, and checks
// that every write the store acknowledged is there after recovery. It
// holds because the store syncs every write (SyncWrites): without that the
// acknowledged records sit in the page cache and are lost.
func TestPowerLossKeepsAcknowledgedWrites(t *testing.T) {
	needPowerLossDisk(t)
	ctx := context.Background()
	disk := newPowerLossDisk(t)
	dir := filepath.Join(disk.mount(disk.img), "store")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	value := func(k string) []byte { return bytes.Repeat([]byte(k+";"), 40) }

	// Acknowledged writes: single puts from concurrent writers, and
	// batches, the two ways the node writes.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := fmt.Sprintf("/powerloss/put/%d/%03d", w, i)
				if err := st.Datastore().Put(ctx, ds.NewKey(k), value(k)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for b := range 5 {
		batch, err := st.Datastore().Batch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for i := range 40 {
			k := fmt.Sprintf("/powerloss/batch/%d/%03d", b, i)
			if err := batch.Put(ctx, ds.NewKey(k), value(k)); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if err := batch.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, keys...)
	}
	if t.Failed() {
		return
	}

	img := disk.cut()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(filepath.Join(disk.mount(img), "store"), Options{})
	if err != nil {
		t.Fatalf("store after power loss does not open: %v", err)
	}
	defer st.Close()
	lost := 0
	for _, k := range acked {
		v, err := st.Datastore().Get(ctx, ds.NewKey(k))
		if err != nil || !bytes.Equal(v, value(k)) {
			if lost < 5 {
				t.Errorf("acknowledged %s lost: %v", k, err)
			}
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, len(acked))
	}
	t.Logf("%d acknowledged writes survived the power cut", len(acked))
}
