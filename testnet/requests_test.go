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

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// reqNet is the four nodes of the requests test: A the citizen's home
// node, B and C providers, D a bystander. Every libp2p link is clear
// text through a recorder, so what D receives can be searched.
type reqNet struct {
	t      *testing.T
	keys   [4]ed25519.PrivateKey
	dirs   [4]string
	nodes  [4]*node.Node
	hosts  [4]host.Host
	recs   []*recorder
	public []string
}

func (r *reqNet) start(i int, boot ...int) {
	r.t.Helper()
	h, rec := plainHost(r.t, r.keys[i])
	r.recs = append(r.recs, rec)
	cfg := node.Config{CoopName: fmt.Sprintf("Coop %c", 'A'+i), Key: r.keys[i], DataDir: r.dirs[i], P2PHost: h,
		Requests: node.RequestsConfig{MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}}
	for _, b := range boot {
		hb := r.hosts[b]
		cfg.Bootstrap = append(cfg.Bootstrap, hb.Addrs()[0].String()+"/p2p/"+hb.ID().String())
	}
	r.hosts[i] = h
	r.nodes[i] = nodetest.Start(r.t, cfg)[0]
}

func (r *reqNet) stop(i int) {
	r.nodes[i].Close()
	r.hosts[i].Close()
}

// apiClient logs user in on n.
func apiClient(t *testing.T, n *node.Node, user, pw string) *client {
	t.Helper()
	c := &client{t: t, base: n.URL()}
	var out struct{ Token string }
	c.do("POST", "/api/v1/login", map[string]string{"username": user, "password": pw}, http.StatusOK, &out)
	c.token = out.Token
	return c
}

// storeHolds reports the canaries found in any key or value of n's store.
func storeHolds(t *testing.T, n *node.Node, canaries []string) []string {
	t.Helper()
	var found []string
	err := store.Each(context.Background(), n.Store().Datastore(), "/", func(k string, v []byte) error {
		for _, c := range canaries {
			if strings.Contains(k, c) || bytes.Contains(v, []byte(c)) {
				found = append(found, c+" in "+k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func seenFrom(t *testing.T, n *node.Node, peer string) int {
	t.Helper()
	count := 0
	err := store.Each(context.Background(), n.Store().Datastore(), "/requests/", func(k string, _ []byte) error {
		if strings.Contains(k, "/seen/"+peer+"/") {
			count++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return count
}

// newReqNet prepares keys and data directories; the nodes it starts are
// stopped, and their recorders closed, when the test ends.
func newReqNet(t *testing.T) *reqNet {
	r := &reqNet{t: t}
	for i := range r.keys {
		_, r.keys[i], _ = ed25519.GenerateKey(rand.Reader)
		r.dirs[i] = t.TempDir()
	}
	t.Cleanup(func() {
		for i := range r.nodes {
			if r.nodes[i] != nil {
				r.stop(i)
			}
		}
		for _, rec := range r.recs {
			rec.close()
		}
	})
	return r
}

// TestRequestAcrossNodes: a citizen on A asks offerings of B and C; B
// offers, C declines; the citizen accepts B's offer; the case is on A and
// B only; B goes offline, A suspends, B comes back and both converge;
// messages go both ways with receipts and an attachment; payments show on
// A; C hears nothing after its decline; D holds and receives none of it.
func TestRequestAcrossNodes(t *testing.T) {
	ctx := context.Background()
	r := newReqNet(t)
	r.start(3)
	r.start(0, 3)
	r.start(1, 3, 0)
	r.start(2, 3, 0)
	a, b, c := r.nodes[0], r.nodes[1], r.nodes[2]
	admin := auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}
	var canaries []string
	cn := func(f string) string {
		s := "CANARY" + strings.ToUpper(f) + "Q7Z"
		canaries = append(canaries, s)
		return s
	}
	ob, oc := homeCare(t, b, admin, "Assistenza domiciliare di B"), homeCare(t, c, admin, "Assistenza domiciliare di C")
	poll.Until(t, 30*time.Second, "both offerings to reach A", func() bool {
		_, e1 := a.Catalogue().Get(ctx, b.PeerID(), ob.ID)
		_, e2 := a.Catalogue().Get(ctx, c.PeerID(), oc.ID)
		return e1 == nil && e2 == nil
	})
	const pw = "tramonto-sul-lago-blu"
	if _, err := a.Auth().Create(ctx, auth.Account{Username: "cittadina", Role: auth.Citizen, DisplayName: cn("citizenname")}, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Auth().Create(ctx, auth.Account{Username: "gestore", Role: auth.CaseManager, DisplayName: "Gestore B"}, pw); err != nil {
		t.Fatal(err)
	}
	cit := apiClient(t, a, "cittadina", pw)
	pb := apiClient(t, b, "gestore", pw)
	pc := apiClient(t, c, "admin", nodetest.AdminPassword)
	// A request for an unknown offering changes nothing.
	cit.do("POST", "/api/v1/requests", map[string]any{"offerings": []string{"no-such-offering"}, "for": "self",
		"municipality": "015146", "start": "2026-12-20", "consent": true}, http.StatusBadRequest, nil)
	cit.do("POST", "/api/v1/requests", map[string]any{"offerings": []string{ob.ID}, "for": "self",
		"municipality": "015146", "start": "2026-12-20", "consent": false}, http.StatusBadRequest, nil)

	var created struct{ ID string }
	cit.do("POST", "/api/v1/requests", map[string]any{"offerings": []string{b.PeerID() + "/" + ob.ID, oc.ID}, "for": cn("forwhom"),
		"municipality": "015146", "address": cn("address"), "start": "2026-12-20", "when": cn("when"), "notes": cn("notes"), "consent": true},
		http.StatusCreated, &created)
	if created.ID == "" {
		t.Fatal("no request id")
	}
	for _, p := range []*client{pb, pc} {
		poll.Until(t, 20*time.Second, "the request to reach the provider", func() bool {
			var list []requests.Request
			p.do("GET", "/api/v1/requests", nil, http.StatusOK, &list)
			return len(list) == 1 && list[0].ID == created.ID
		})
	}
	// Both ends audited the request: the citizen's node as hers, each
	// provider's as received.
	audited(t, a, "request", created.ID, "cittadina", "")
	audited(t, b, "request", created.ID, "", "received")
	audited(t, c, "request", created.ID, "", "received")
	// Each provider sees only its own offering.
	var atB requests.Request
	pb.do("GET", "/api/v1/requests/"+created.ID, nil, http.StatusOK, &atB)
	if len(atB.Offerings) != 1 || atB.Offerings[0].ID != ob.ID || atB.Home != a.PeerID() {
		t.Fatalf("B's request: %+v", atB)
	}
	requestMessages(t, r, cit, pb, created.ID, cn)

	var offer requests.Offer
	pb.do("POST", "/api/v1/requests/"+created.ID+"/offers", map[string]any{"price": 18.5, "unit": "ora", "start": "2026-12-21",
		"conditions": cn("conditions"), "valid_until": "2099-01-31"}, http.StatusCreated, &offer)
	pc.do("POST", "/api/v1/requests/"+created.ID+"/decline", map[string]any{"reason": cn("declinereason")}, http.StatusOK, nil)
	var mine requests.Request
	poll.Until(t, 20*time.Second, "the offer and the decline to reach A", func() bool {
		cit.do("GET", "/api/v1/requests/"+created.ID, nil, http.StatusOK, &mine)
		return len(mine.Offers) == 1 && len(mine.Deliveries) == 2 && mine.Deliveries[1].State == requests.StateDeclined
	})
	seenAtC := seenFrom(t, c, a.PeerID())
	if seenAtC != 2 {
		t.Fatalf("C handled %d messages from A, want the request and the citizen's message only", seenAtC)
	}
	// After the decline nothing more goes to C, either way.
	cit.do("POST", "/api/v1/requests/"+created.ID+"/messages", map[string]any{"provider": c.PeerID(), "text": cn("aftermsg")}, http.StatusConflict, nil)
	pc.do("POST", "/api/v1/requests/"+created.ID+"/messages", map[string]any{"text": cn("aftermsgc")}, http.StatusConflict, nil)

	var accepted struct{ Case string }
	cit.do("POST", "/api/v1/requests/"+created.ID+"/accept", map[string]string{"offer": offer.ID}, http.StatusCreated, &accepted)
	cit.do("POST", "/api/v1/requests/"+created.ID+"/accept", map[string]string{"offer": offer.ID}, http.StatusConflict, nil)
	caseURL := "/api/v1/cases/" + accepted.Case
	var atBCase requests.Case
	poll.Until(t, 20*time.Second, "the case to open on B and be confirmed on A", func() bool {
		var list []requests.Case
		pb.do("GET", "/api/v1/cases", nil, http.StatusOK, &list)
		var m requests.Case
		cit.do("GET", caseURL, nil, http.StatusOK, &m)
		return len(list) == 1 && list[0].ID == accepted.Case && !m.Pending && m.Version == 1
	})
	audited(t, a, "case", accepted.Case, "cittadina", "accept "+offer.ID)
	audited(t, b, "case", accepted.Case, "", "accepted")
	pb.do("GET", caseURL, nil, http.StatusOK, &atBCase)
	if atBCase.State != requests.CaseActive || atBCase.Due[0].Amount != 18.5 {
		t.Fatalf("B's case: %+v", atBCase)
	}
	// A transition the table forbids: 409, nothing changed.
	cit.do("POST", caseURL+"/transitions", map[string]string{"to": "active", "reason": "x"}, http.StatusConflict, nil)

	pb = offlineAndBack(t, r, cit, caseURL, cn("suspendreason"), pw)
	b = r.nodes[1]
	messagesAndPayments(t, cit, pb, caseURL, cn)

	// Another citizen sees none of it.
	if _, err := a.Auth().Create(ctx, auth.Account{Username: "altro", Role: auth.Citizen}, pw); err != nil {
		t.Fatal(err)
	}
	other := apiClient(t, a, "altro", pw)
	other.do("GET", caseURL, nil, http.StatusNotFound, nil)
	other.do("GET", "/api/v1/requests/"+created.ID, nil, http.StatusNotFound, nil)
	other.do("POST", caseURL+"/transitions", map[string]string{"to": "completed", "reason": "x"}, http.StatusNotFound, nil)

	checkNothingLeaked(t, r, accepted.Case, seenAtC, canaries)
	if f := storeHolds(t, b, canaries[:1]); len(f) == 0 {
		t.Error("B lacks the citizen's name it was shown: the canary check proves nothing")
	}
}

// messagesAndPayments exchanges messages both ways (one with an
// attachment, one refused for its type), records a payment and a link on
// the provider, and waits until the citizen's node shows all of it.
func messagesAndPayments(t *testing.T, cit, pb *client, caseURL string, cn func(string) string) {
	// Messages both ways, an attachment, receipts.
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, []byte(cn("attachment"))...)
	cit.do("POST", caseURL+"/messages", map[string]any{"text": cn("citizenmsg"),
		"attachment": map[string]any{"name": "foto.png", "type": "image/png", "data": png}}, http.StatusCreated, nil)
	cit.do("POST", caseURL+"/messages", map[string]any{"text": "x",
		"attachment": map[string]any{"name": "a.pdf", "type": "application/pdf", "data": png}}, http.StatusBadRequest, nil)
	var got []requests.Message
	poll.Until(t, 20*time.Second, "the citizen's message to reach B", func() bool {
		pb.do("GET", caseURL+"/messages", nil, http.StatusOK, &got)
		return len(got) == 1
	})
	if got[0].Attachment == nil || !bytes.Equal(got[0].Attachment.Data, png) {
		t.Fatal("the attachment did not arrive whole")
	}
	pb.do("POST", caseURL+"/messages", map[string]any{"text": cn("providermsg")}, http.StatusCreated, nil)
	pb.do("POST", caseURL+"/transitions", map[string]any{"to": "active", "reason": cn("resumereason")}, http.StatusOK, nil)
	pb.do("POST", caseURL+"/payments", map[string]any{"amount": 18.5, "method": "bonifico", "link": "https://pay.example.org/x"}, http.StatusCreated, nil)
	cit.do("POST", caseURL+"/payments", map[string]any{"amount": 1}, http.StatusForbidden, nil)
	poll.Until(t, 20*time.Second, "the reply, the receipt, the state and the payment to reach A", func() bool {
		var ms []requests.Message
		cit.do("GET", caseURL+"/messages", nil, http.StatusOK, &ms)
		var pay requests.Payments
		cit.do("GET", caseURL+"/payments", nil, http.StatusOK, &pay)
		var m requests.Case
		cit.do("GET", caseURL, nil, http.StatusOK, &m)
		return len(ms) == 2 && ms[0].ReadAt != nil && m.State == requests.CaseActive && pay.Paid == 18.5 && pay.Link != "" && len(pay.Payments) == 1
	})

}

// checkNothingLeaked: C handled nothing after its decline and holds no
// case nor anything that followed; D holds and received no canary.
func checkNothingLeaked(t *testing.T, r *reqNet, caseID string, seenAtC int, canaries []string) {
	ctx := context.Background()
	a, c, d := r.nodes[0], r.nodes[2], r.nodes[3]
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	// C: nothing after its decline, no case.
	if n := seenFrom(t, c, a.PeerID()); n != seenAtC {
		t.Errorf("C handled %d messages from A after its decline", n-seenAtC)
	}
	if _, err := c.Requests().Case(ctx, admin, caseID); err == nil {
		t.Error("the case is on C")
	}
	// What C was never to see: all but the request it got, the
	// citizen's message to it and its own reason (B's thread included).
	shown := []string{"CITIZENNAME", "FORWHOM", "ADDRESS", "NOTES", "WHEN", "MSGTOC", "DECLINEREASON", "AFTERMSGC"}
	var late []string
	for _, s := range canaries {
		if !slices.ContainsFunc(shown, func(f string) bool { return s == "CANARY"+f+"Q7Z" }) {
			late = append(late, s)
		}
	}
	if f := storeHolds(t, c, late); len(f) > 0 {
		t.Errorf("C holds what followed its decline: %v", f)
	}
	// D: none of it, stored or received.
	if f := storeHolds(t, d, canaries); len(f) > 0 {
		t.Errorf("D holds private data: %v", f)
	}
	dTraffic := r.recs[0].bytes()
	if !bytes.Contains(dTraffic, []byte("Assistenza domiciliare di B")) {
		t.Fatal("D's recorder saw no public offering: it does not see the traffic")
	}
	for _, s := range canaries {
		if bytes.Contains(dTraffic, []byte(s)) {
			t.Errorf("D received %s", s)
		}
	}
}

// requestMessages: before any answer the citizen writes to B and to C on
// the request (each provider its own thread), B replies; the citizen's
// node shows the three messages, B's reply read and B's receipt of the
// citizen's message.
func requestMessages(t *testing.T, r *reqNet, cit, pb *client, id string, cn func(string) string) {
	b, c := r.nodes[1], r.nodes[2]
	url := "/api/v1/requests/" + id + "/messages"
	cit.do("POST", url, map[string]any{"text": "x"}, http.StatusBadRequest, nil) // two providers: which one?
	cit.do("POST", url, map[string]any{"provider": b.PeerID(), "text": cn("msgtob")}, http.StatusCreated, nil)
	cit.do("POST", url, map[string]any{"provider": c.PeerID(), "text": cn("msgtoc")}, http.StatusCreated, nil)
	var got []requests.Message
	poll.Until(t, 20*time.Second, "the citizen's message to reach B", func() bool {
		pb.do("GET", url, nil, http.StatusOK, &got)
		return len(got) == 1
	})
	if got[0].Side != requests.SideCitizen || got[0].Author != "" {
		t.Fatalf("B's thread: %+v", got)
	}
	pb.do("POST", url, map[string]any{"text": cn("replyfromb")}, http.StatusCreated, nil)
	poll.Until(t, 20*time.Second, "B's reply on A, and B's receipt", func() bool {
		cit.do("GET", url, nil, http.StatusOK, &got)
		return len(got) == 3 && got[0].ReadAt != nil && got[2].Provider == b.PeerID() && got[2].ReadAt != nil
	})
}

// offlineAndBack stops B, has the citizen suspend the case on A, restarts
// B and waits until both hold the suspension at the same version. It
// returns a client of the restarted B.
func offlineAndBack(t *testing.T, r *reqNet, cit *client, caseURL, reason, pw string) *client {
	a, b := r.nodes[0], r.nodes[1]
	// B goes offline; A suspends; B comes back and both converge.
	r.stop(1)
	cit.do("POST", caseURL+"/transitions", map[string]string{"to": "suspended", "reason": reason}, http.StatusOK, nil)
	if a.Requests().Outbox().Pending(b.PeerID()) == 0 {
		t.Fatal("the suspension is not queued for B")
	}
	r.start(1, 3, 0)
	b = r.nodes[1]
	pb := apiClient(t, b, "gestore", pw)
	poll.Until(t, 30*time.Second, "A and B to converge on the suspension", func() bool {
		var m, p requests.Case
		cit.do("GET", caseURL, nil, http.StatusOK, &m)
		pb.do("GET", caseURL, nil, http.StatusOK, &p)
		return !m.Pending && m.State == requests.CaseSuspended && p.State == requests.CaseSuspended && m.Version == p.Version
	})
	return pb
}

// audited fails t unless n's audit log holds the creation of the kind's
// record id, by the citizen (when set) with the detail, and still
// verifies: the event is in the record's own write (RecordTx).
func audited(t *testing.T, n *node.Node, kind, id, citizen, detail string) {
	t.Helper()
	ctx := context.Background()
	evs, err := n.Audit().Query(ctx, audit.Filter{Kind: kind, Object: id})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e audit.Event) bool {
		return e.Action == audit.Create && e.Detail == detail && (citizen == "" || e.Actor == citizen)
	}) {
		t.Fatalf("%s: no audit event for %s %s (detail %q, by %q) among %+v", n.PeerID(), kind, id, detail, citizen, evs)
	}
	if _, err := n.Audit().Verify(ctx); err != nil {
		t.Fatalf("%s: audit chain: %v", n.PeerID(), err)
	}
}

// homeCare publishes a free home-care offering named name on n.
func homeCare(t *testing.T, n *node.Node, admin auth.Actor, name string) catalogue.Offering {
	t.Helper()
	o, err := n.Own().Create(context.Background(), admin, schema.Offering{Name: name, Description: "Aiuto a casa.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@coop.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
