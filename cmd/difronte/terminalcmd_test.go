package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerminalCommands runs `difronte terminal` on the built binary with
// real arguments: probe reports a fake machine's hardware, setup turns a
// throwaway root into a kiosk, a second setup changes nothing and
// --check then agrees; a probe without its code is a usage error.
func TestTerminalCommands(t *testing.T) {
	root := t.TempDir()
	sys := filepath.Join(root, "sys")
	for path, content := range map[string]string{
		"class/rtc/rtc0/wakealarm":                   "",
		"class/power_supply/BAT0/energy_full":        "40000000",
		"class/power_supply/BAT0/energy_full_design": "50000000",
		"class/dmi/id/bios_vendor":                   "Fake BIOS Inc.",
	} {
		p := filepath.Join(sys, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runBin(t, nil, "terminal", "probe", "--print", "--sysfs", sys, "--procfs", filepath.Join(root, "proc"), "--etc", filepath.Join(root, "etc"))
	if code != 0 {
		t.Fatalf("probe --print: exit %d\n%s", code, stderr)
	}
	var report map[string]any
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("probe --print wrote no JSON report: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "Fake BIOS Inc.") {
		t.Fatalf("probe report misses the fake BIOS vendor:\n%s", stdout)
	}
	if code, _, stderr := runBin(t, nil, "terminal", "probe", "--node", "http://127.0.0.1:1"); code != 2 || !strings.Contains(stderr, "--code") {
		t.Fatalf("probe without --code: exit %d, want 2 naming --code\n%s", code, stderr)
	}

	kiosk := filepath.Join(root, "kiosk")
	// The kiosk user exists in the throwaway root (useradd is not run on
	// a test machine's own /etc).
	if err := os.MkdirAll(filepath.Join(kiosk, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\ndifronte-kiosk:x:1001:1001::/home/difronte-kiosk:/bin/sh\n"
	if err := os.WriteFile(filepath.Join(kiosk, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := []string{"terminal", "setup", "--root", kiosk, "--node", "http://127.0.0.1:8080", "--credential", "cred-test-123",
		"--useradd", "", "--systemctl", ""}
	if code, _, stderr := runBin(t, nil, setup...); code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
	before := snapshotTree(t, kiosk)
	if code, _, stderr := runBin(t, nil, setup...); code != 0 {
		t.Fatalf("second setup: exit %d\n%s", code, stderr)
	}
	if after := snapshotTree(t, kiosk); after != before {
		t.Fatalf("a second setup changed the tree:\nbefore %s\nafter  %s", before, after)
	}
	if code, stdout, stderr := runBin(t, nil, append(setup, "--check")...); code != 0 {
		t.Fatalf("setup --check after setup: exit %d\n%s%s", code, stdout, stderr)
	}
}

// snapshotTree lists every file under dir with its content (a link with
// its target).
func snapshotTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			b.WriteString(p + "->" + target + ";")
			return err
		}
		c, err := os.ReadFile(p)
		b.WriteString(p + "=" + string(c) + ";")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatal("setup wrote nothing")
	}
	return b.String()
}
