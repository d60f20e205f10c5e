package requests

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/difronte/difronte/node/outbox"
)

// TestRequestSentAtOnce: to a provider that is up, or to the citizen's
// node itself, the request is in the provider's inbox when the citizen's
// call returns, and nothing was queued; to one that is down, it waits in
// the outbox and arrives when it is back.
func TestRequestSentAtOnce(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req, err := r.home.Create(ctx, citizen, newRequest(), "Anna")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.prov.inbox.Get(req.ID); !ok {
		t.Fatal("the request was not in the provider's inbox when Create returned")
	}
	if s := r.home.Outbox().Stats(); s.Queued != 0 || s.Delivered != 1 {
		t.Fatalf("outbox after a request sent at once: %+v", s)
	}

	// The citizen's node is the provider of its own offerings: filed in
	// its own inbox at once too.
	own := newRequest()
	own.Offerings = []string{"own1"}
	mine, err := r.home.Create(ctx, citizen, own, "Anna")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.home.inbox.Get(mine.ID); !ok {
		t.Fatal("a request to this node's own offering was not in its inbox when Create returned")
	}
	if s := r.home.Outbox().Stats(); s.Queued != 0 || s.Delivered != 2 {
		t.Fatalf("outbox after a request to this node itself: %+v", s)
	}

	r.net.setDown(provID, true)
	late, err := r.home.Create(ctx, citizen, newRequest(), "Anna")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.prov.inbox.Get(late.ID); ok {
		t.Fatal("a request reached a provider that is down")
	}
	if s := r.home.Outbox().Stats(); s.Queued != 1 || s.Pending != 1 {
		t.Fatalf("outbox after a request to a provider down: %+v", s)
	}
	r.net.setDown(provID, false)
	r.home.Wake(provID)
	r.settle(t)
	if _, ok := r.prov.inbox.Get(late.ID); !ok || r.prov.InboxCount() != 2 {
		t.Fatalf("the queued request did not arrive once the provider was back (inbox %d)", r.prov.InboxCount())
	}
}

// TestRequestSentThenWriteFailed: a request sent at once whose write then
// fails on the citizen's node is an error to the citizen, and the
// provider's copy closes at its first reply (unknown_request), audited;
// nothing is left on the citizen's node.
func TestRequestSentThenWriteFailed(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.disks[homeID].allow.Store(0)
	if _, err := r.home.Create(ctx, citizen, newRequest(), "Anna"); err == nil {
		t.Fatal("a request whose write failed was acknowledged")
	}
	r.disks[homeID].allow.Store(-1)
	inbox := r.prov.inbox.Filter(func(*Request) bool { return true })
	if len(inbox) != 1 {
		t.Fatalf("the provider holds %d requests, want the one sent at once", len(inbox))
	}
	if mine, err := r.home.Requests(ctx, citizen); err != nil || len(mine) != 0 {
		t.Fatalf("the citizen's node kept %d requests (%v)", len(mine), err)
	}
	id := inbox[0].ID
	if _, err := r.prov.MakeOffer(ctx, manager, id, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if got, _ := r.prov.inbox.Get(id); got.State != StateClosed || got.Reason != ReasonUnknownAtHome {
		t.Fatalf("the provider's copy after its refused offer: %+v", got)
	}
}

// TestReplyWhileCreating: a reply about a request this node is still
// writing is asked to come again (try_later), not refused as unknown,
// and handled once the request is stored.
func TestReplyWhileCreating(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	id := r.home.orderedID("rq")
	offer := func() outbox.Answer {
		t.Helper()
		msg, err := encode(newID("ms"), provID, MsgDecline, id, wireDecline{Reason: "nessuna disponibilità"})
		if err != nil {
			t.Fatal(err)
		}
		var a outbox.Answer
		if err := json.Unmarshal(r.home.HandleRemote(ctx, provID, msg), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	r.home.creating(id, true)
	if a := offer(); a.Refused != outbox.TryLater {
		t.Fatalf("a reply during the request's write: %+v, want %s", a, outbox.TryLater)
	}
	r.home.creating(id, false)
	if a := offer(); a.Refused != "unknown_request" {
		t.Fatalf("a reply about a request never stored: %+v, want unknown_request", a)
	}
}
