package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/backup"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workshop"
	"github.com/difronte/difronte/schema"
)

// storeNamespaces are the parts of the store the node opens (every
// Namespace call of node and cmd). A backup must carry each of them whole.
var storeNamespaces = []string{
	"/audit", "/auth", "/care", "/own", "/fed", "/calls", "/escalation", "/notify", "/qualify/coop", "/qualify/authority", "/workshop",
}

// record is one key and value of the store.
type record struct {
	key   string
	value []byte
}

// dumpStore reads every record of the badger store in dir, in key order.
func dumpStore(t *testing.T, dir string) []record {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Datastore().Query(context.Background(), dsq.Query{Orders: []dsq.Order{dsq.OrderByKey{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var out []record
	for r := range res.Next() {
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		out = append(out, record{r.Key, slices.Clone(r.Value)})
	}
	return out
}

func namespaceOf(key string) string {
	for _, ns := range storeNamespaces {
		if strings.HasPrefix(key, ns+"/") {
			return ns
		}
	}
	return ""
}

// seedEveryNamespace fills a stopped node's store: through the node's own
// services for the private side, and one record written straight into every
// namespace, so that the namespaces a node without federation leaves empty
// (/fed, /qualify/...) are in the backup too.
func seedEveryNamespace(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	n := startDemo(t, node.Config{DataDir: dataDir, AdminPassword: "ponte-di-vetro-42"})
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	ben, err := n.Care().CreateBeneficiary(ctx, admin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "058091",
		Contacts: []care.Contact{{Kind: "family", Name: "Luca", Email: "luca@example.org"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Calls().SaveSettings(ctx, admin, calls.Settings{Beneficiary: ben.ID, DisplayName: "Maria", Countdown: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Workshop().TakeIn(ctx, admin, workshop.Intake{Donor: "Studio Rossi", Date: time.Now().Format(time.DateOnly), Model: "X230", Serial: "PB-1"}); err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.Calls().IssueGrant(ctx, admin, calls.Grant{Beneficiary: ben.ID, Node: schema.PeerIDFromPublicKey(other.Public().(ed25519.PublicKey)),
		Caregiver: "cg-elsewhere", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Escalation().SaveSettings(ctx, admin, escalation.Settings{Beneficiary: ben.ID, Chain: []escalation.Link{{Kind: "family", Channel: "email", To: "luca@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify().Enqueue(ctx, notify.Message{ID: "backup-test", Channel: notify.InApp, To: "admin", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(filepath.Join(dataDir, "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, ns := range storeNamespaces {
		if err := st.Namespace(ns).Put(ctx, ds.NewKey("/backup-test/seed"), []byte(`{"namespace":"`+ns+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackupCarriesEveryNamespace: a backup restored into an empty data
// directory holds the same records as the store it was taken from, key by
// key and byte by byte, in every namespace of the store.
func TestBackupCarriesEveryNamespace(t *testing.T) {
	root := t.TempDir()
	src, dst, file := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "node.backup")
	seedEveryNamespace(t, src)
	if _, err := node.Backup(src, file); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Restore(file, dst); err != nil {
		t.Fatal(err)
	}

	before, after := dumpStore(t, filepath.Join(src, "store")), dumpStore(t, filepath.Join(dst, "store"))
	per := map[string]int{}
	for _, r := range before {
		ns := namespaceOf(r.key)
		if ns == "" {
			t.Fatalf("key %s is in no known namespace: add its namespace to storeNamespaces", r.key)
		}
		per[ns]++
	}
	for _, ns := range storeNamespaces {
		// The seed record and at least one the node wrote itself, except
		// where a node without federation writes nothing.
		least := 2
		if ns == "/fed" || strings.HasPrefix(ns, "/qualify/") {
			least = 1
		}
		if per[ns] < least {
			t.Fatalf("fixture: namespace %s holds %d records, want at least %d", ns, per[ns], least)
		}
	}
	i, j := 0, 0
	for i < len(before) && j < len(after) {
		b, a := before[i], after[j]
		switch {
		case b.key < a.key:
			t.Fatalf("%s: record %s missing after restore", namespaceOf(b.key), b.key)
		case b.key > a.key:
			t.Fatalf("%s: record %s appeared after restore", namespaceOf(a.key), a.key)
		case !bytes.Equal(b.value, a.value):
			t.Fatalf("%s: record %s changed by backup and restore", namespaceOf(b.key), b.key)
		}
		i, j = i+1, j+1
	}
	if i < len(before) {
		t.Fatalf("%s: record %s missing after restore (%d of %d restored)", namespaceOf(before[i].key), before[i].key, len(after), len(before))
	}
	if j < len(after) {
		t.Fatalf("%s: record %s appeared after restore", namespaceOf(after[j].key), after[j].key)
	}
	t.Logf("%d records restored: %v", len(after), per)
}

// TestStartRefusesAnInterruptedRestore: a data directory a restore left
// half done is refused with the reason, and nothing is created in it;
// restoring again clears it and the node starts.
func TestStartRefusesAnInterruptedRestore(t *testing.T) {
	root := t.TempDir()
	src, file := filepath.Join(root, "src"), filepath.Join(root, "node.backup")
	seedEveryNamespace(t, src)
	if _, err := node.Backup(src, file); err != nil {
		t.Fatal(err)
	}
	// A crash between moving the restored node into place and removing the
	// marker, and a crash while loading (a staging directory beside a data
	// directory that does not exist yet).
	moved, loading := filepath.Join(root, "moved"), filepath.Join(root, "loading")
	if _, err := node.Restore(file, moved); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(moved, backup.MarkerFile), nil, 0o600)
	os.MkdirAll(filepath.Join(root, ".loading.restore-42", "store"), 0o700)

	for _, dir := range []string{moved, loading} {
		n, err := node.New(node.Config{DataDir: dir, NoFederation: true, HTTPAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		err = n.Start(context.Background())
		if !errors.Is(err, backup.ErrIncomplete) || !strings.Contains(err.Error(), "run the restore again") {
			t.Fatalf("start on %s: %v", dir, err)
		}
		n.Close()
		if _, err := os.Stat(loading); dir == loading && err == nil {
			t.Fatal("a refused start created the data directory")
		}
		if _, err := node.Backup(dir, filepath.Join(root, "again.backup")); !errors.Is(err, backup.ErrIncomplete) {
			t.Fatalf("backup of %s: %v", dir, err)
		}
		s, err := node.Restore(file, dir)
		if err != nil || !s.Cleared {
			t.Fatalf("restore again into %s: %+v %v", dir, s, err)
		}
		start(t, node.Config{DataDir: dir}).Close()
	}
}

// TestScheduledBackupsOfARunningNode: a node with Config.Backup takes its
// own backups while it serves and writes, keeps Keep of them, each one
// sound and restorable, and shows the last result on /metrics and on the
// admin's home page.
func TestScheduledBackupsOfARunningNode(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "backups")
	const pw = "ponte-di-vetro-42"
	n := startDemo(t, node.Config{DataDir: filepath.Join(root, "data"), AdminPassword: pw,
		Backup: node.BackupConfig{Dir: dir, Every: 30 * time.Millisecond, Keep: 2}})
	defer n.Close()
	c := login(t, n, "admin", pw)
	for i := 0; ; i++ {
		c.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{"name": fmt.Sprintf("Persona %d", i), "address": "Via Roma 1", "municipality": "058091"}, nil)
		if r, ok := n.Backups().Last(); ok && r.Runs >= 3 {
			if !r.OK() {
				t.Fatalf("scheduled backup: %+v", r)
			}
			break
		}
		if i > 5000 {
			t.Fatal("no three scheduled backups")
		}
	}
	metrics := get(t, n.URL()+"/metrics", nil)
	for _, want := range []string{"difronte_backup_last_ok 1", "difronte_backup_runs_total", "difronte_backup_last_size_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	resp, err := web.PostForm(n.URL()+"/login", url.Values{"username": {"admin"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for lang, want := range map[string]string{"it": "verificata", "en": "verified"} {
		u, _ := url.Parse(n.URL())
		jar.SetCookies(u, []*http.Cookie{{Name: "difronte_lang", Value: lang}})
		if home := get(t, n.URL()+"/", web); !strings.Contains(home, `id="backup-status"`) || !strings.Contains(home, want) {
			t.Errorf("home page (%s) does not show the last backup", lang)
		}
	}
	n.Close()

	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d files in the backup directory, want 2", len(entries))
	}
	for i, e := range entries {
		file := filepath.Join(dir, e.Name())
		if _, err := node.VerifyBackup(file); err != nil {
			t.Fatal(err)
		}
		s, err := node.Restore(file, filepath.Join(root, fmt.Sprint("restored", i)))
		if err != nil || s.AuditEvents == 0 || s.Node != n.PeerID() {
			t.Fatalf("restore of a running node's backup: %+v %v", s, err)
		}
	}
}

func get(t *testing.T, u string, c *http.Client) string {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b)
}
