package requests

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

func status(err error) int {
	if p := problem.As(err); p != nil && err != nil {
		return p.Status
	}
	return 0
}

// TestRequestMessages: before any offer is accepted the citizen and the
// provider write to each other on the request, with read receipts; the
// lists leave the messages out; another citizen, a staff role or a third
// node cannot touch the thread; after the decline nothing more goes
// either way; the demand record counts the decline.
func TestRequestMessages(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	if _, err := r.home.SendRequestMessage(ctx, citizen, req.ID, NewRequestMessage{Text: "posso avere la mattina?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.home.SendRequestMessage(ctx, citizen, req.ID, NewRequestMessage{Provider: "12D3KooWOther", Text: "x"}); status(err) != 400 {
		t.Fatalf("a provider never asked: %v", err)
	}
	if _, err := r.home.SendRequestMessage(ctx, stranger, req.ID, NewRequestMessage{Text: "x"}); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("another citizen wrote: %v", err)
	}
	if _, err := r.home.RequestMessages(ctx, auth.Actor{Username: "op", Role: auth.Operator}, req.ID); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("an operator's own session read: %v", err)
	}
	r.settle(t)
	got, err := r.prov.RequestMessages(ctx, manager, req.ID)
	if err != nil || len(got) != 1 || got[0].Side != SideCitizen || got[0].Author != "" || got[0].Provider != "" {
		t.Fatalf("provider's thread: %+v %v", got, err)
	}
	if _, err := r.prov.SendRequestMessage(ctx, manager, req.ID, NewRequestMessage{Text: "sì, dalle 9"}); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	mine, err := r.home.RequestMessages(ctx, citizen, req.ID)
	if err != nil || len(mine) != 2 || mine[0].ReadAt == nil || mine[1].Provider != provID || mine[1].Side != SideProvider {
		t.Fatalf("citizen's threads: %+v %v", mine, err)
	}
	r.settle(t)
	theirs, _ := r.prov.RequestMessages(ctx, manager, req.ID)
	if theirs[1].ReadAt == nil {
		t.Fatal("the provider's message has no read receipt")
	}
	if list, _ := r.home.Requests(ctx, citizen); len(list) != 1 || list[0].Messages != nil {
		t.Fatalf("the list carries the messages: %+v", list)
	}
	if _, err := r.prov.Decline(ctx, manager, req.ID, "nessun operatore libero"); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if _, err := r.prov.SendRequestMessage(ctx, manager, req.ID, NewRequestMessage{Text: "ancora io"}); status(err) != 409 {
		t.Fatalf("provider wrote after its decline: %v", err)
	}
	if _, err := r.home.SendRequestMessage(ctx, citizen, req.ID, NewRequestMessage{Text: "perché?"}); status(err) != 409 {
		t.Fatalf("citizen wrote after the decline: %v", err)
	}
	// A late message from the provider's node is refused, nothing stored.
	b, _ := encode("ms-latelate01", provID, MsgRequestMessage, req.ID, wireRequestMessage{Message: Message{ID: "mg-latelate01", Side: SideProvider, Text: "tardi"}})
	if got := refusedCode(r.home.HandleRemote(ctx, provID, b)); got != "request_closed" {
		t.Fatalf("late message: %q", got)
	}
	// A third node cannot write on the thread.
	b, _ = encode("ms-thirdnode1", "12D3KooWThird", MsgRequestMessage, req.ID, wireRequestMessage{Message: Message{ID: "mg-thirdnode1", Side: SideProvider, Text: "ciao"}})
	if got := refusedCode(r.home.HandleRemote(ctx, "12D3KooWThird", b)); got != "not_asked" {
		t.Fatalf("third node: %q", got)
	}
	if mine, _ := r.home.RequestMessages(ctx, citizen, req.ID); len(mine) != 2 {
		t.Fatalf("messages after the decline: %d, want 2", len(mine))
	}
	kinds := map[string]uint64{}
	d, _ := r.home.Demand(ctx, auth.Actor{Username: "off", Role: auth.Officer})
	for _, c := range d {
		kinds[c.Kind] += c.Count
	}
	if kinds[DemandRequest] != 1 || kinds[DemandDecline] != 1 {
		t.Fatalf("demand %+v", d)
	}
}

func refusedCode(ans []byte) string {
	var a Answer
	_ = json.Unmarshal(ans, &a)
	return a.Refused
}

// TestOperatorActsForCitizen: an operator acting for a citizen (the
// session's "act for citizen" mode) sends a request and writes on it; the
// request is the citizen's, the message names the operator as its
// author, the audit log records "operator for citizen"; the operator's
// own session sees nothing of it.
func TestOperatorActsForCitizenOnRequests(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	op := auth.Actor{Username: "sportello", Role: auth.Operator, For: "anna"}
	req, err := r.home.Create(ctx, op, newRequest(), "Anna")
	if err != nil {
		t.Fatal(err)
	}
	if req.Citizen != "anna" {
		t.Fatalf("request of %q, want the citizen's", req.Citizen)
	}
	m, err := r.home.SendRequestMessage(ctx, op, req.ID, NewRequestMessage{Text: "scrivo per Anna"})
	if err != nil || m.Author != "sportello" {
		t.Fatalf("message %+v %v", m, err)
	}
	if list, _ := r.home.Requests(ctx, citizen); len(list) != 1 || list[0].ID != req.ID {
		t.Fatalf("the citizen's requests: %+v", list)
	}
	self := auth.Actor{Username: "sportello", Role: auth.Operator}
	if _, err := r.home.RequestMessages(ctx, self, req.ID); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("the operator's own session read the thread: %v", err)
	}
	evs, err := r.home.cfg.Audit.ForCitizen(ctx, "anna", 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		found = found || (e.Kind == "request_message" && e.Actor == "sportello" && e.For == "anna")
	}
	if !found {
		t.Fatalf("no audit event of the operator for the citizen: %+v", evs)
	}
	r.settle(t)
	if got, _ := r.prov.RequestMessages(ctx, manager, req.ID); len(got) != 1 || got[0].Author != "" {
		t.Fatalf("provider's thread: %+v", got)
	}
}
