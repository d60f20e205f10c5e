package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupRestoreRoundTrip(t *testing.T) {
	root := t.TempDir()
	src, dst, file := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "node.backup")
	env := []string{"DIFRONTE_ADMIN_PASSWORD=password-backup"}

	p := serve(t, src, env, "--demo")
	a := newAPI(t, p.url)
	a.login("admin", "password-backup")
	var node struct {
		PeerID string `json:"peer_id"`
	}
	a.must(http.StatusOK, "GET", "/api/v1/node", nil, &node)
	var ben struct{ ID string }
	a.must(http.StatusCreated, "POST", "/api/v1/beneficiaries", beneficiaryBody(1), &ben)
	a.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "nuovo", "role": "operator", "password": "quaderno-a-righe"}, nil)
	var before struct{ Total int }
	a.must(http.StatusOK, "GET", "/api/v1/beneficiaries", nil, &before)
	var auditBefore struct{ Checked int }
	a.must(http.StatusOK, "GET", "/api/v1/audit/verify", nil, &auditBefore)
	a.close()

	// A running node cannot be backed up: badger holds its directory lock.
	code, _, stderr := runBin(t, nil, "backup", "--data", src, "--out", file)
	if code != 1 || !strings.Contains(stderr, "is the node still running?") {
		t.Fatalf("backup of a running node: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a failed backup left a file")
	}
	p.stop()

	code, out, stderr := runBin(t, nil, "backup", "--data", src, "--out", file)
	if code != 0 || !strings.Contains(out, "written to") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}

	// Restore refuses a directory that holds a node.
	code, _, stderr = runBin(t, nil, "restore", "--in", file, "--data", src)
	if code != 1 || !strings.Contains(stderr, "restore needs an empty data directory") {
		t.Fatalf("restore over a node: exit %d\n%s", code, stderr)
	}
	// A file that is not a backup is refused without touching the target.
	junk := filepath.Join(root, "junk")
	os.WriteFile(junk, []byte("not a backup"), 0o600)
	if code, _, stderr = runBin(t, nil, "restore", "--in", junk, "--data", filepath.Join(root, "junkdst")); code != 1 || !strings.Contains(stderr, "not a difronte backup") {
		t.Fatalf("restore of junk: exit %d\n%s", code, stderr)
	}

	code, out, stderr = runBin(t, nil, "restore", "--in", file, "--data", dst)
	if code != 0 || !strings.Contains(out, "Restored") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}

	// The restored node is the same node.
	p = serve(t, dst, nil)
	defer p.stop()
	if strings.Contains(p.stdoutText(), "password:") {
		t.Fatal("the restored node created a new admin")
	}
	a = newAPI(t, p.url)
	defer a.close()
	var node2 struct {
		PeerID string `json:"peer_id"`
	}
	a.must(http.StatusOK, "GET", "/api/v1/node", nil, &node2)
	if node2.PeerID != node.PeerID {
		t.Fatalf("peer id %s after restore, was %s", node2.PeerID, node.PeerID)
	}
	a.login("nuovo", "quaderno-a-righe")
	a.login("giulia.ferrari", "password-backup") // a demo account
	a.login("admin", "password-backup")
	var after struct{ Total int }
	a.must(http.StatusOK, "GET", "/api/v1/beneficiaries", nil, &after)
	if after.Total != before.Total {
		t.Fatalf("%d beneficiaries after restore, %d before", after.Total, before.Total)
	}
	a.must(http.StatusOK, "GET", "/api/v1/beneficiaries/"+ben.ID, nil, nil)
	var v struct {
		OK      bool
		Checked int
	}
	a.must(http.StatusOK, "GET", "/api/v1/audit/verify", nil, &v)
	if !v.OK || v.Checked < auditBefore.Checked {
		t.Fatalf("audit after restore: %+v (had %d events)", v, auditBefore.Checked)
	}
}

// TestDamagedBackupsNeverRestore: `backup verify` and `restore` refuse a
// backup with one flipped byte, a cut one and a file that is no backup,
// with the reason and exit 1, and the target directory stays as it was;
// a data directory whose restore was interrupted is refused by `serve`
// until `restore` is run again.
func TestDamagedBackupsNeverRestore(t *testing.T) {
	root := t.TempDir()
	src, file := filepath.Join(root, "src"), filepath.Join(root, "node.backup")
	p := serve(t, src, []string{"DIFRONTE_ADMIN_PASSWORD=password-backup"}, "--demo")
	p.stop()
	if code, out, stderr := runBin(t, nil, "backup", "--data", src, "--out", file); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := runBin(t, nil, "backup", "verify", file); code != 0 || !strings.Contains(out, "sound difronte backup") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}
	good, _ := os.ReadFile(file)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x01
	for name, c := range map[string]struct {
		data []byte
		why  string
	}{
		"flipped":   {flipped, "backup is damaged"},
		"truncated": {good[:len(good)*2/3], "backup is damaged"},
		"junk":      {[]byte("not a backup"), "not a difronte backup"},
	} {
		bad := filepath.Join(root, name+".backup")
		os.WriteFile(bad, c.data, 0o600)
		if code, _, stderr := runBin(t, nil, "backup", "verify", bad); code != 1 || !strings.Contains(stderr, c.why) {
			t.Fatalf("verify %s: exit %d\n%s", name, code, stderr)
		}
		missing, empty := filepath.Join(root, name+"-missing"), filepath.Join(root, name+"-empty")
		os.Mkdir(empty, 0o700)
		for _, dst := range []string{missing, empty} {
			if code, _, stderr := runBin(t, nil, "restore", "--in", bad, "--data", dst); code != 1 || !strings.Contains(stderr, c.why) {
				t.Fatalf("restore %s: exit %d\n%s", name, code, stderr)
			}
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("restore of a %s backup created the data directory", name)
		}
		if es, _ := os.ReadDir(empty); len(es) != 0 {
			t.Fatalf("restore of a %s backup left %v", name, es)
		}
	}

	// The state a crash leaves between moving the restored node into place
	// and removing the marker.
	dst := filepath.Join(root, "dst")
	if code, out, stderr := runBin(t, nil, "restore", "--in", file, "--data", dst); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	os.WriteFile(filepath.Join(dst, "RESTORE-INCOMPLETE"), nil, 0o600)
	if code, _, stderr := runBin(t, nil, append([]string{"serve", "--data", dst}, loopback...)...); code == 0 || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("serve on an interrupted restore: exit %d\n%s", code, stderr)
	}
	if code, out, stderr := runBin(t, nil, "restore", "--in", file, "--data", dst); code != 0 || !strings.Contains(out, "interrupted restore") {
		t.Fatalf("restore again: exit %d\n%s%s", code, out, stderr)
	}
	serve(t, dst, nil).stop()
}
