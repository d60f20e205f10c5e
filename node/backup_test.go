package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// storeNamespaces are the parts of the store the node opens (every
// Namespace call of node and cmd). A backup must carry each of them whole.
var storeNamespaces = []string{
	"/audit", "/auth", "/care", "/own", "/fed", "/calls", "/escalation", "/notify", "/qualify/coop", "/qualify/authority",
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
	if err := node.Restore(file, dst); err != nil {
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
