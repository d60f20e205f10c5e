package node_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

var sysAdmin = auth.Actor{Username: "admin", Role: auth.Admin}

// sock is a signaling WebSocket driven by hand: the hub only relays
// signaling, so a test needs no WebRTC to place, answer or refuse a call.
type sock struct {
	t *testing.T
	c *websocket.Conn
}

func dialSock(t *testing.T, ctx context.Context, n *node.Node, path, token string) *sock {
	t.Helper()
	opts := &websocket.DialOptions{}
	if token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
	}
	c, _, err := websocket.Dial(ctx, strings.Replace(n.URL(), "http://", "ws://", 1)+path, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &sock{t: t, c: c}
}

func (s *sock) send(ctx context.Context, m calls.Msg) {
	s.t.Helper()
	b, _ := json.Marshal(m)
	if err := s.c.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// await reads until a message of type typ arrives (others are skipped).
func (s *sock) await(ctx context.Context, typ string) calls.Msg {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		_, b, err := s.c.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %q: %v", typ, err)
		}
		var m calls.Msg
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatalf("bad message %s: %v", b, err)
		}
		if m.Type == typ {
			return m
		}
		if m.Type == calls.TypeRefused || m.Type == calls.TypeError {
			s.t.Fatalf("waiting for %q, got %+v", typ, m)
		}
	}
}

// pairTerminal pairs a terminal of ben and connects its socket.
func pairTerminal(t *testing.T, ctx context.Context, n *node.Node, ben string) *sock {
	t.Helper()
	term, err := n.Care().CreateTerminal(ctx, sysAdmin, care.Terminal{Label: "T-1", Model: "ThinkPad T440", State: "in_service", Beneficiary: ben})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := n.Calls().StartPairing(ctx, sysAdmin, term.ID, n.URL())
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := n.Calls().Pair(ctx, pr.Code, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ts := dialSock(t, ctx, n, "/ws/terminal", "")
	ts.send(ctx, calls.Msg{Type: calls.TypeHello, Credential: cred})
	ts.await(ctx, calls.TypeHello)
	poll.Until(t, 10*time.Second, "terminal online", func() bool { return n.Calls().Hub().Online(ben) })
	return ts
}

// caregiverLogin creates a caregiver with an account and returns it with
// a bearer token.
func caregiverLogin(t *testing.T, n *node.Node, user, name string) (care.Caregiver, *client) {
	t.Helper()
	ctx := context.Background()
	cg, err := n.Care().CreateCaregiver(ctx, sysAdmin, care.Caregiver{Name: name, Languages: []string{"it"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Auth().Create(ctx, auth.Account{Username: user, Role: auth.Caregiver, CaregiverID: cg.ID, DisplayName: name}, "caregiver-password-1"); err != nil {
		t.Fatal(err)
	}
	return cg, login(t, n, user, "caregiver-password-1")
}

// ring places a call from cs to the terminal ts and has the terminal
// either accept it (then the caregiver hangs up) or refuse it.
func ring(t *testing.T, ctx context.Context, cs, ts *sock, id, ben, peer string, answer bool) {
	t.Helper()
	cs.send(ctx, calls.Msg{Type: calls.TypeCall, Call: id, Beneficiary: ben, Node: peer})
	ts.await(ctx, calls.TypeRing)
	if !answer {
		ts.send(ctx, calls.Msg{Type: calls.TypeHangup, Call: id})
		if m := cs.await(ctx, calls.TypeHangup); m.Reason != "terminal_hangup" {
			t.Fatalf("refused call ended with %q", m.Reason)
		}
		return
	}
	ts.send(ctx, calls.Msg{Type: calls.TypeAccept, Call: id})
	cs.await(ctx, calls.TypeAccepted)
	cs.send(ctx, calls.Msg{Type: calls.TypeHangup, Call: id})
	ts.await(ctx, calls.TypeHangup)
}

// postForm posts a web form with the client's token and returns the status
// and the redirect target.
func (c *client) postForm(path string, f url.Values) (int, string, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+c.token)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestCallsDriveCheckins: node/calls reports to escalation on a real node,
// through real signaling sockets, with an injected clock: "Sto bene" on
// the terminal closes the window; a call placed and answered can be given
// an outcome from the web form, which lists it; calls refused by the
// terminal as many times as the retries open a case by themselves.
func TestCallsDriveCheckins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now().UTC().Truncate(time.Minute)
	fc := fakeclock.New(t0)
	n := start(t, node.Config{AdminPassword: "admin-password-1", Clock: fc})
	defer n.Close()

	cg, carla := caregiverLogin(t, n, "carla", "Carla Bianchi")
	ben, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272", Caregivers: []string{cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Escalation().SaveSettings(ctx, sysAdmin, escalation.Settings{Beneficiary: ben.ID, Retries: 2,
		Chain: []escalation.Link{{Kind: "coop", Name: "Admin", Channel: "inapp", To: "admin"}}}); err != nil {
		t.Fatal(err)
	}
	// Two agreed calls: at t0+30m and t0+3h (15 minutes each, 30 minutes'
	// grace: the first window closes at t0+75m).
	rome, _ := time.LoadLocation(calls.Zone)
	slot1, slot2 := t0.Add(30*time.Minute), t0.Add(3*time.Hour)
	if _, err := n.Calls().SaveSchedule(ctx, sysAdmin, calls.Schedule{Beneficiary: ben.ID, Caregiver: cg.ID, Time: "10:00",
		Start: t0.In(rome).Format("2006-01-02"), Minutes: 15,
		Extra: []string{slot1.In(rome).Format("2006-01-02T15:04"), slot2.In(rome).Format("2006-01-02T15:04")}}); err != nil {
		t.Fatal(err)
	}
	ts := pairTerminal(t, ctx, n, ben.ID)
	cs := dialSock(t, ctx, n, "/ws/calls", carla.token)
	cs.await(ctx, calls.TypeHello)

	es := n.Escalation()
	advance := func(d time.Duration) {
		fc.Advance(d)
		if err := es.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	window := func(start time.Time) escalation.Window {
		for _, w := range es.Windows(t0, t0.Add(24*time.Hour)) {
			if w.Start.Equal(start) {
				return w
			}
		}
		t.Fatalf("no window at %v in %+v", start, es.Windows(t0, t0.Add(24*time.Hour)))
		return escalation.Window{}
	}

	// 1. "Sto bene" in the first window: a check-in.
	advance(31 * time.Minute)
	if w := window(slot1); w.State != escalation.WindowOpen {
		t.Fatalf("first window at its time: %+v", w)
	}
	ts.send(ctx, calls.Msg{Type: calls.TypeFine})
	ts.await(ctx, calls.TypeOK)
	if w := window(slot1); w.State != escalation.WindowDone || w.How != string(escalation.ImFine) {
		t.Fatalf("first window after Sto bene: %+v", w)
	}
	advance(time.Hour) // past its deadline: nothing opens
	if cs, _ := es.Cases(ctx, sysAdmin, escalation.CaseQuery{}); len(cs) != 0 {
		t.Fatalf("cases after a check-in: %+v", cs)
	}

	// 2. A call placed and answered: the outcome form lists it and takes a
	// problem.
	ring(t, ctx, cs, ts, "answered-call-1", ben.ID, "", true)
	code, body := carla.get("/cases/outcome")
	if code != http.StatusOK || !strings.Contains(body, "answered-call-1|"+ben.ID) || !strings.Contains(body, "Maria Rossi") {
		t.Fatalf("outcome form %d does not list the call:\n%s", code, body)
	}
	code, to, body := carla.postForm("/cases/outcome", url.Values{"key": {"form-key-1"}, "call": {"answered-call-1|" + ben.ID},
		"status": {"problem"}, "kind": {"food"}, "urgency": {"high"}, "note": {"fridge empty"}, "actions": {"alert_family", "propose_services"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(to, "/cases/") {
		t.Fatalf("outcome post: %d %q\n%s", code, to, body)
	}
	c, err := es.Case(ctx, sysAdmin, strings.TrimPrefix(to, "/cases/"))
	if err != nil || c.Source != "outcome" || c.Kind != "food" || c.Caregiver != cg.ID || len(c.Actions) != 2 {
		t.Fatalf("case from the form: %+v %v", c, err)
	}
	if _, body := carla.get("/cases/outcome"); strings.Contains(body, "answered-call-1") {
		t.Fatal("the form still offers a call with an outcome")
	}

	// 3. Second window: the terminal refuses the call twice (the retries):
	// the node opens a case by itself.
	advance(3*time.Hour - 30*time.Minute - 31*time.Minute + time.Minute) // t0+3h+1m
	if w := window(slot2); w.State != escalation.WindowOpen {
		t.Fatalf("second window at its time: %+v", w)
	}
	ring(t, ctx, cs, ts, "refused-call-1", ben.ID, "", false)
	if w := window(slot2); w.State != escalation.WindowOpen || w.Unanswered != 1 {
		t.Fatalf("second window after one refusal: %+v", w)
	}
	ring(t, ctx, cs, ts, "refused-call-2", ben.ID, "", false)
	w := window(slot2)
	if w.State != escalation.WindowMissed || w.How != escalation.MissUnanswered || w.Case == "" {
		t.Fatalf("second window after two refusals: %+v", w)
	}
	mc, err := es.Case(ctx, sysAdmin, w.Case)
	if err != nil || mc.Source != "missed" || mc.Reason != escalation.MissUnanswered || mc.State != escalation.CaseOpen {
		t.Fatalf("missed case: %+v %v", mc, err)
	}

	// The admin's dashboard names the caregiver of those check-ins.
	adm := login(t, n, "admin", "admin-password-1")
	if code, body := adm.get("/dashboard"); code != http.StatusOK || !strings.Contains(body, "<td>Carla Bianchi</td>") {
		t.Fatalf("dashboard %d without the caregiver's name:\n%s", code, body)
	}
}

// TestRemoteOutcomeFromWebForm: a caregiver of node A calls, under a grant,
// a beneficiary of node B; after the call A's outcome form offers it and
// sends the problem to B: the case and its alert are on B, nothing on A.
func TestRemoteOutcomeFromWebForm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, b := nodetest.Pair(t, node.Config{CoopName: "Coop A"}, node.Config{CoopName: "Coop B"})

	cg, giulia := caregiverLogin(t, a, "giulia", "Giulia Bianchi")
	ben, err := b.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "058091"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Calls().SaveSettings(ctx, sysAdmin, calls.Settings{Beneficiary: ben.ID, DisplayName: "Signora Maria", Countdown: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Escalation().SaveSettings(ctx, sysAdmin, escalation.Settings{Beneficiary: ben.ID,
		Chain: []escalation.Link{{Kind: "coop", Name: "Admin B", Channel: "inapp", To: "admin"}}}); err != nil {
		t.Fatal(err)
	}
	g, err := b.Calls().IssueGrant(ctx, sysAdmin, calls.Grant{Beneficiary: ben.ID, Node: a.PeerID(), Caregiver: cg.ID, Name: "Giulia", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "grant held on A", func() bool {
		for _, h := range a.Calls().HeldGrants(cg.ID) {
			if h.ID == g.ID {
				return true
			}
		}
		return false
	})
	ts := pairTerminal(t, ctx, b, ben.ID)
	cs := dialSock(t, ctx, a, "/ws/calls", giulia.token)
	cs.await(ctx, calls.TypeHello)
	ring(t, ctx, cs, ts, "remote-call-1", ben.ID, b.PeerID(), true)

	choice := "remote-call-1|" + ben.ID + "|" + b.PeerID()
	var body string
	poll.Until(t, 10*time.Second, "the form on A offers the remote call", func() bool {
		_, body = giulia.get("/cases/outcome")
		return strings.Contains(body, choice)
	})
	if !strings.Contains(body, "Signora Maria") || strings.Contains(body, "Maria Rossi") {
		t.Fatalf("the form names the remote beneficiary wrongly:\n%s", body)
	}
	form := url.Values{"key": {"remote-key-1"}, "call": {choice}, "status": {"problem"}, "kind": {"loneliness"},
		"urgency": {"medium"}, "note": {"alone all week"}, "actions": {"alert_social"}}
	code, to, out := giulia.postForm("/cases/outcome", form)
	if code != http.StatusSeeOther || to != "/cases" {
		t.Fatalf("remote outcome post: %d %q\n%s", code, to, out)
	}

	onB, err := b.Escalation().Cases(ctx, sysAdmin, escalation.CaseQuery{})
	if err != nil || len(onB) != 1 {
		t.Fatalf("cases on B: %+v %v", onB, err)
	}
	if c := onB[0]; c.Beneficiary != ben.ID || c.Kind != "loneliness" || c.Caregiver != a.PeerID()+"/"+cg.ID || c.Source != "outcome" {
		t.Fatalf("case on B: %+v", c)
	}
	if onA, _ := a.Escalation().Cases(ctx, sysAdmin, escalation.CaseQuery{}); len(onA) != 0 {
		t.Fatalf("cases on A: %+v", onA)
	}
	// The alert reached B's chain (B's admin, in-app).
	if inbox := b.Notify().Inbox(sysAdmin); len(inbox) == 0 {
		t.Fatal("no alert in B's admin inbox")
	}
	// The same form sent again (a double tap after a lost answer) changes
	// nothing; the form no longer offers the call.
	if _, body := giulia.get("/cases/outcome"); strings.Contains(body, choice) {
		t.Fatal("the form still offers a reported remote call")
	}
	if code, _, _ := giulia.postForm("/cases/outcome", form); code != http.StatusSeeOther {
		t.Fatalf("repeat post: %d", code)
	}
	if onB, _ := b.Escalation().Cases(ctx, sysAdmin, escalation.CaseQuery{}); len(onB) != 1 {
		t.Fatalf("cases on B after a repeat: %d", len(onB))
	}
}
