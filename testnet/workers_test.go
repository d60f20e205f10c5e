package testnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/contacts"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// TestFamilyAssistantsAcrossCoops runs three nodes whose libp2p links are
// recorded in clear text: coop B registers and publishes two family
// assistants; a family on A files a request over the HTTP API and gets
// both ranked with reasons (in the catalogue's words); C sees them too;
// B withdraws one and it disappears from A and C. Canaries in every
// private field of the workers and of the family never appear in any
// byte sent, nor on A's or C's API, while the public aliases do.
func TestFamilyAssistantsAcrossCoops(t *testing.T) {
	ctx := context.Background()
	const sesto = "015209" // Sesto San Giovanni
	var keys [3]ed25519.PrivateKey
	var hosts [3]host.Host
	var recs [3]*recorder
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(rand.Reader)
		hosts[i], recs[i] = plainHost(t, keys[i])
		defer recs[i].close()
		defer hosts[i].Close()
	}
	// C (index 0) is the bootstrap of B and A, and dials no one: every
	// byte C sends or receives crosses recs[0], and the contact between
	// A and B (A dials B) never does.
	cfg := func(i int, name string) node.Config {
		// No federation secret: membership runs alone on each node (its
		// metadata is TestPrivateDataNeverLeaves's), so no memberlist
		// probe outlives the test.
		c := node.Config{CoopName: name, Key: keys[i], Store: store.NewMemory(), P2PHost: hosts[i]}
		for j := range i {
			c.Bootstrap = append(c.Bootstrap, hosts[j].Addrs()[0].String()+"/p2p/"+hosts[j].ID().String())
		}
		return c
	}
	c := nodetest.Start(t, cfg(0, "Coop Lago"))[0]
	b := nodetest.Start(t, cfg(1, "Cooperativa Sole"))[0]
	a := nodetest.Start(t, cfg(2, "Coop Ponte"))[0]
	// Closed before the hosts and recorders (deferred earlier), as in
	// TestPrivateDataNeverLeaves: membership stops before its links.
	for _, n := range []*node.Node{a, b, c} {
		defer n.Close()
	}

	var canaries []string
	cn := func(f string) string {
		s := "CANARY" + strings.ToUpper(f) + "Z9K"
		canaries = append(canaries, s)
		return s
	}
	admin := auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}
	today := time.Now().UTC().Format(time.DateOnly)
	worker := func(tag, alias string, langs []string, night bool, pay int64) workers.Worker {
		return workers.Worker{
			FullName: cn(tag + "name"), Phone: "+39 347 000 " + tag, Email: strings.ToLower(cn(tag+"mail")) + "@example.org",
			Address: cn(tag + "address"), Documents: cn(tag + "docs"),
			Consent: workers.Consent{Given: true, Date: today, CollectedBy: cn(tag + "consentby")},
			Check: workers.Check{IdentitySeen: true, Date: today, By: cn(tag + "checkby"), References: []workers.Reference{
				{Name: cn(tag + "refname"), Phone: "+39 02 555 " + tag, CalledBy: cn(tag + "calledby"), CalledOn: today, Outcome: cn(tag + "outcome")}}},
			Profile: schema.WorkerProfile{Alias: alias, Work: []schema.WorkKind{schema.WorkElderly, schema.WorkNight}, ExperienceYears: 6,
				Certificates: []schema.Certificate{"oss"}, Languages: langs, Areas: []string{sesto, "015146"},
				Availability: schema.WorkerAvailability{Days: []schema.Weekday{schema.Monday, schema.Tuesday}, HoursPerWeek: 40, Night: night},
				Pay:          schema.WorkerPay{AmountCents: pay, Unit: schema.PerMonth}, Presentation: "Assisto anziani a casa loro."},
		}
	}
	var ids []string
	for _, w := range []workers.Worker{
		worker("1111", "Elena P.", []string{"ro", "it"}, true, 135000),
		worker("2222", "Oksana", []string{"uk", "it"}, false, 110000),
	} {
		rec, err := b.Workers().Create(ctx, admin, w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Workers().Publish(ctx, admin, rec.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	canaries = append(canaries, "+39 347 000 1111", "+39 347 000 2222", "+39 02 555 2222")

	for _, n := range []*node.Node{a, c} {
		poll.Until(t, 20*time.Second, "both profiles to reach "+n.PeerID(), func() bool { return n.Profiles().Count() == 2 })
	}

	// A family on A, through the API as an operator would file it.
	cl := &client{t: t, base: a.URL()}
	var tok struct{ Token string }
	cl.do("POST", "/api/v1/login", map[string]string{"username": "admin", "password": nodetest.AdminPassword}, http.StatusOK, &tok)
	cl.token = tok.Token
	var created struct{ ID string }
	cl.do("POST", "/api/v1/family-requests", families.Request{Work: schema.WorkNight, HoursPerWeek: 40, Languages: []string{"ro"},
		Municipality: sesto, StartDate: today, BudgetCents: 120000, Notes: cn("famnotes"),
		ContactName: cn("famname"), ContactPhone: "+39 333 999 8888", ContactEmail: "canaryfam@example.org"}, http.StatusCreated, &created)
	canaries = append(canaries, "+39 333 999 8888", "canaryfam@example.org", created.ID)
	var got struct{ Matches []workers.Match }
	cl.do("GET", "/api/v1/family-requests/"+created.ID+"/matches", nil, http.StatusOK, &got)
	if len(got.Matches) != 2 {
		t.Fatalf("%d matches, want 2", len(got.Matches))
	}
	first := got.Matches[0]
	if first.Profile.Alias != "Elena P." || first.Score <= got.Matches[1].Score {
		t.Fatalf("ranking: %s (%d) before %s (%d)", first.Profile.Alias, first.Score, got.Matches[1].Profile.Alias, got.Matches[1].Score)
	}
	texts := func(ns []workers.Note) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.Text)
		}
		return strings.Join(s, "; ")
	}
	for _, want := range []string{"parla rumeno e italiano", "disponibile la notte", "lavora a Sesto San Giovanni", "verificata dalla Cooperativa Sole il " + time.Now().UTC().Format("02/01")} {
		if !strings.Contains(texts(first.Reasons), want) {
			t.Errorf("reasons %q lack %q", texts(first.Reasons), want)
		}
	}
	if g := texts(first.Gaps); !strings.Contains(g, "chiede 1.350 €/mese, oltre il budget") {
		t.Errorf("gaps %q lack the budget", g)
	}
	if g := texts(got.Matches[1].Gaps); !strings.Contains(g, "non parla rumeno") {
		t.Errorf("second match's gaps %q lack the language", g)
	}

	// Withdrawn on B: gone from A and C.
	if _, err := b.Workers().Withdraw(ctx, admin, ids[0]); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node.Node{a, c} {
		poll.Until(t, 20*time.Second, "the withdrawal to reach "+n.PeerID(), func() bool {
			_, ok := n.Profiles().Get(b.PeerID(), ids[0])
			return !ok && n.Profiles().Count() == 1
		})
	}
	cl.do("GET", "/api/v1/family-requests/"+created.ID+"/matches", nil, http.StatusOK, &got)
	if len(got.Matches) != 1 || got.Matches[0].Profile.Alias != "Oksana" {
		t.Fatalf("after the withdrawal: %+v", got.Matches)
	}

	for _, n := range []*node.Node{a, b, c} {
		if _, err := n.SyncAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var traffic []byte
	for _, r := range recs {
		traffic = append(traffic, r.bytes()...)
	}
	if !bytes.Contains(traffic, []byte("Oksana")) {
		t.Fatalf("recorder saw %d bytes but not a public alias: it does not see the traffic", len(traffic))
	}
	// What C's public API shows of the federation's profiles.
	pub := &client{t: t, base: c.URL()}
	var search struct{ Items []workers.Profile }
	pub.do("GET", "/api/v1/workers/search?municipality="+sesto+"&facets=all", nil, http.StatusOK, &search)
	if len(search.Items) != 1 {
		t.Fatalf("search on C: %d profiles", len(search.Items))
	}
	shown := fmt.Sprintf("%+v", search.Items)
	for _, s := range canaries {
		if bytes.Contains(traffic, []byte(s)) {
			t.Errorf("private value %q crossed libp2p", s)
		}
		if strings.Contains(shown, s) {
			t.Errorf("private value %q is shown on another node", s)
		}
	}
	if !slices.ContainsFunc(canaries, func(s string) bool { return strings.HasPrefix(s, "CANARYFAMNOTES") }) {
		t.Fatal("no family canary")
	}

	contactThroughTheCoop(t, a, b, c, hosts[0], recs[0], recs[1], created.ID, ids[1], canaries)
}

// contactThroughTheCoop: the family on A asks to meet Oksana (ids[1]);
// the ask reaches B, where the coop records that it asked her and that
// she accepts; A then sees her contacts and B the family's. Nothing
// private ever reaches C: not in any byte C's link carries, not on its API.
func contactThroughTheCoop(t *testing.T, a, b, c *node.Node, hostC host.Host, recC, recB *recorder, request, worker string, canaries []string) {
	t.Helper()
	login := func(n *node.Node) *client {
		cl := &client{t: t, base: n.URL()}
		var tok struct{ Token string }
		cl.do("POST", "/api/v1/login", map[string]string{"username": "admin", "password": nodetest.AdminPassword}, http.StatusOK, &tok)
		cl.token = tok.Token
		return cl
	}
	fam, coop := login(a), login(b)
	var asked contacts.Contact
	fam.do("POST", "/api/v1/family-requests/"+request+"/contacts", contacts.AskBody{Profile: b.PeerID() + "/" + worker,
		Message: "Cerchiamo una persona paziente."}, http.StatusCreated, &asked)
	var in struct{ Contacts []contacts.Contact }
	poll.Until(t, 20*time.Second, "the ask to reach B", func() bool {
		coop.do("GET", "/api/v1/worker-contacts?worker="+worker, nil, http.StatusOK, &in)
		return len(in.Contacts) == 1
	})
	if in.Contacts[0].ID != asked.ID || in.Contacts[0].Family != nil || in.Contacts[0].Need.Work != schema.WorkNight {
		t.Fatalf("B received %+v", in.Contacts[0])
	}
	var mine struct{ Contacts []contacts.Contact }
	seen := func(state string) contacts.Contact {
		poll.Until(t, 20*time.Second, "A to see "+state, func() bool {
			fam.do("GET", "/api/v1/family-requests/"+request+"/contacts", nil, http.StatusOK, &mine)
			return len(mine.Contacts) == 1 && mine.Contacts[0].State == state
		})
		return mine.Contacts[0]
	}
	if got := seen(contacts.StateReceived); got.Worker != nil {
		t.Fatal("the worker's contacts reached A before she accepted")
	}
	for _, st := range []string{contacts.StateAsked, contacts.StateAccepted} {
		coop.do("POST", "/api/v1/worker-contacts/"+asked.ID+"/answer", map[string]string{"state": st}, http.StatusOK, nil)
		seen(st)
	}
	got := seen(contacts.StateAccepted)
	if got.Worker == nil || !strings.HasPrefix(got.Worker.Name, "CANARY2222NAME") || got.Worker.Phone != "+39 347 000 2222" {
		t.Fatalf("A sees the worker's contacts as %+v", got.Worker)
	}
	var back contacts.Contact
	poll.Until(t, 20*time.Second, "the family's contacts to reach B", func() bool {
		coop.do("GET", "/api/v1/worker-contacts/"+asked.ID, nil, http.StatusOK, &back)
		return back.Family != nil
	})
	if !strings.HasPrefix(back.Family.Name, "CANARYFAMNAME") || back.Family.Phone != "+39 333 999 8888" {
		t.Fatalf("B sees the family as %+v", back.Family)
	}

	for _, n := range []*node.Node{a, b, c} {
		if _, err := n.SyncAll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, conn := range hostC.Network().Conns() {
		if conn.Stat().Direction != network.DirInbound {
			t.Fatalf("C dialed %s: its traffic would not all cross its recorder", conn.RemotePeer())
		}
	}
	// The contacts did cross A–B, after the accept, in the clear: the
	// recorders would see them on C's link too.
	if !bytes.Contains(recB.bytes(), []byte(got.Worker.Name)) || !bytes.Contains(recB.bytes(), []byte(back.Family.Name)) {
		t.Fatal("the contacts were not seen on the A–B link")
	}
	traffic := recC.bytes()
	if !bytes.Contains(traffic, []byte("Oksana")) {
		t.Fatalf("C's recorder saw %d bytes but not a public alias", len(traffic))
	}
	pub := &client{t: t, base: c.URL()}
	var search struct{ Items []workers.Profile }
	pub.do("GET", "/api/v1/workers/search?facets=all", nil, http.StatusOK, &search)
	shown := fmt.Sprintf("%+v", search.Items)
	for _, s := range append(canaries, asked.ID) {
		if bytes.Contains(traffic, []byte(s)) {
			t.Errorf("private value %q reached C", s)
		}
		if strings.Contains(shown, s) {
			t.Errorf("private value %q is shown on C", s)
		}
	}
}
