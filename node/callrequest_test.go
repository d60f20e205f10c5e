package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/testnet/poll"
)

type inboxItem struct {
	ID, Subject, Body, Ref, Link, Beneficiary string
}

func inboxOf(c *client) []inboxItem {
	var in struct{ Items []inboxItem }
	c.call(http.StatusOK, "GET", "/api/v1/inbox", nil, &in)
	return in.Items
}

func requestCases(t *testing.T, n *node.Node, ben string) []escalation.Case {
	t.Helper()
	cs, err := n.Escalation().Cases(context.Background(), sysAdmin, escalation.CaseQuery{Beneficiary: ben})
	if err != nil {
		t.Fatal(err)
	}
	var out []escalation.Case
	for _, c := range cs {
		if c.Reason == escalation.MissRequest {
			out = append(out, c)
		}
	}
	return out
}

func openRequests(n *node.Node, ben string) []calls.Request {
	var out []calls.Request
	for _, r := range n.Calls().Requests(context.Background(), sysAdmin) {
		if r.Beneficiary == ben {
			out = append(out, r)
		}
	}
	return out
}

// TestCallRequestLifecycle: "Chiamatemi" on a terminal is stored (pressing
// again adds nothing), reaches the caregiver's inbox in Italian and her
// agenda with the record's gender, survives a restart of the node, and,
// with nobody calling back within the coop's time (fake clock), opens a
// case once while staying on the agenda. Another request is closed by a
// call back that connects, a third by hand; neither opens a case.
func TestCallRequestLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	const wait = 20 * time.Minute
	fc := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	cfg := node.Config{AdminPassword: "admin-password-1", Clock: fc, DataDir: t.TempDir(), Calls: node.CallsConfig{RequestWait: wait}}
	n := start(t, cfg)
	cg, carla := caregiverLogin(t, n, "carla", "Carla Bianchi")
	mario, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Mario Rossi", Gender: "m", Address: "Via Roma 1", Municipality: "001272", Caregivers: []string{cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	ts := pairTerminal(t, ctx, n, mario.ID)
	ts.send(ctx, calls.Msg{Type: calls.TypeRequest})
	ts.await(ctx, calls.TypeOK)
	ts.send(ctx, calls.Msg{Type: calls.TypeRequest})
	ts.await(ctx, calls.TypeOK)
	rs := openRequests(n, mario.ID)
	if len(rs) != 1 || rs[0].State != calls.RequestOpen || !rs[0].Due.Equal(rs[0].At.Add(wait)) {
		t.Fatalf("requests after two presses: %+v", rs)
	}
	req := rs[0]
	items := inboxOf(carla)
	if len(items) != 1 || items[0].Subject != "Richiesta di chiamata dal terminale" || items[0].Beneficiary != mario.ID ||
		items[0].Link != "/agenda#request-"+req.ID || strings.Contains(items[0].Body, "Mario") {
		t.Fatalf("carla's inbox: %+v", items)
	}
	code, body := carla.get("/agenda")
	if code != http.StatusOK || !strings.Contains(body, "Mario Rossi chiede di essere chiamato") || !strings.Contains(body, `id="request-`+req.ID+`"`) {
		t.Fatalf("agenda %d without the request in the masculine:\n%s", code, body)
	}
	if _, body := carla.get("/inbox"); !strings.Contains(body, "Riguarda Mario Rossi") || !strings.Contains(body, `href="/agenda#request-`+req.ID+`"`) {
		t.Fatalf("inbox page does not name the person or link the request:\n%s", body)
	}

	// A restart: the request is still there, and its time still runs.
	n.Close()
	fc.Advance(wait / 2)
	n = start(t, cfg)
	defer n.Close()
	carla = login(t, n, "carla", "caregiver-password-1")
	if rs := openRequests(n, mario.ID); len(rs) != 1 || rs[0].ID != req.ID {
		t.Fatalf("requests after a restart: %+v", rs)
	}
	if _, body := carla.get("/"); !strings.Contains(body, "Mario Rossi chiede di essere chiamato") {
		t.Fatalf("carla's home without the request:\n%s", body)
	}
	if cs := requestCases(t, n, mario.ID); len(cs) != 0 {
		t.Fatalf("case before the coop's time: %+v", cs)
	}
	fc.Advance(wait/2 + time.Minute)
	poll.Until(t, 10*time.Second, "the missed request's case", func() bool { return len(requestCases(t, n, mario.ID)) == 1 })
	c := requestCases(t, n, mario.ID)[0]
	if c.Source != "missed" || c.Request != req.ID || c.State != escalation.CaseOpen || c.Caregiver != cg.ID {
		t.Fatalf("case of the missed request: %+v", c)
	}
	if rs := openRequests(n, mario.ID); len(rs) != 1 || !rs[0].Missed {
		t.Fatalf("a missed request stays open until called back: %+v", rs)
	}
	fc.Advance(wait)
	if cs := requestCases(t, n, mario.ID); len(cs) != 1 {
		t.Fatalf("one request, %d cases", len(cs))
	}

	// Called back: a call to the person that connects closes the request.
	ts = pairTerminal(t, ctx, n, mario.ID)
	cs := dialSock(t, ctx, n, "/ws/calls", carla.token)
	cs.await(ctx, calls.TypeHello)
	ring(t, ctx, cs, ts, "call-back-1", mario.ID, "", true)
	got, err := n.Calls().CallRequest(ctx, sysAdmin, req.ID)
	if err != nil || got.State != calls.RequestCalledBack || got.Call != "call-back-1" {
		t.Fatalf("request after the call back: %+v %v", got, err)
	}
	if rs := openRequests(n, mario.ID); len(rs) != 0 {
		t.Fatalf("still open after the call back: %+v", rs)
	}

	// A new request, called back in time: no case.
	ts.send(ctx, calls.Msg{Type: calls.TypeRequest})
	ts.await(ctx, calls.TypeOK)
	fc.Advance(wait / 4)
	ring(t, ctx, cs, ts, "call-back-2", mario.ID, "", true)
	fc.Advance(2 * wait)
	if cs := requestCases(t, n, mario.ID); len(cs) != 1 {
		t.Fatalf("a request called back in time opened a case: %d cases", len(cs))
	}

	// A third one closed by hand; a caregiver who does not follow Mario
	// may not close it.
	ts.send(ctx, calls.Msg{Type: calls.TypeRequest})
	ts.await(ctx, calls.TypeOK)
	third := openRequests(n, mario.ID)[0]
	_, gino := caregiverLogin(t, n, "gino", "Gino Verdi")
	gino.call(http.StatusForbidden, "POST", "/api/v1/calls/requests/"+third.ID+"/close", nil, nil)
	var closed calls.Request
	carla.call(http.StatusOK, "POST", "/api/v1/calls/requests/"+third.ID+"/close", nil, &closed)
	if closed.State != calls.RequestClosed || closed.ClosedBy != "carla" {
		t.Fatalf("closed by hand: %+v", closed)
	}
	fc.Advance(2 * wait)
	if cs := requestCases(t, n, mario.ID); len(cs) != 1 {
		t.Fatalf("a request closed by hand opened a case: %d cases", len(cs))
	}
}
