package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/difronte/difronte/node/problem"
)

// carrierFunc answers remote outcome requests in-process.
type carrierFunc func(peer string, req []byte) ([]byte, error)

func (f carrierFunc) Send(_ context.Context, peer string, req []byte) ([]byte, error) {
	return f(peer, req)
}

// TestRemoteCallOnCallersNode: a call a local caregiver placed to another
// coop's beneficiary is kept only as a choice of the outcome form: it
// touches no window, cannot get a local outcome, and once sent to the
// owner node (a failure first: nothing marked) it is no longer offered.
func TestRemoteCallOnCallersNode(t *testing.T) {
	r := newRig(t)
	r.pres.online["b1"] = true
	r.sched.slots = []Slot{slotAt(t0.Add(time.Hour))}
	ctx := context.Background()
	r.advance(time.Hour + time.Minute) // b1's window open
	// A remote beneficiary whose id happens to be "b1" on its node.
	if err := r.svc.Record(ctx, Event{Type: CallAnswered, Beneficiary: "b1", Caregiver: "cg1", Call: "rc1", Node: "peerB", Name: "Signora Maria"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range r.svc.Windows(t0, t0.Add(24*time.Hour)) {
		if w.State != WindowOpen {
			t.Fatalf("a remote call touched a local window: %+v", w)
		}
	}
	ch := r.svc.OpenCalls(ctx, carla)
	if len(ch) != 1 || ch[0].Node != "peerB" || ch[0].Name != "Signora Maria" {
		t.Fatalf("choices %+v", ch)
	}
	o := Outcome{Key: "rk1", Beneficiary: "b1", Call: "rc1", Status: StatusWell}
	if _, err := r.svc.RecordOutcome(ctx, carla, o); !errors.Is(err, ErrNoCall) {
		t.Fatalf("local outcome of a remote call: %v", err)
	}
	// No carrier: refused, still offered.
	if _, err := r.svc.SubmitOutcome(ctx, carla, "peerB", o); problem.As(err).Code != "no_federation" {
		t.Fatalf("without carrier: %v", err)
	}
	down := true
	var got RemoteOutcome
	r.svc.SetCarrier(carrierFunc(func(peer string, req []byte) ([]byte, error) {
		if down {
			return nil, errors.New("unreachable")
		}
		if err := json.Unmarshal(req, &got); err != nil || peer != "peerB" {
			t.Errorf("request to %s: %s", peer, req)
		}
		return json.Marshal(RemoteAnswer{OK: true, Outcome: "o-there"})
	}))
	if _, err := r.svc.SubmitOutcome(ctx, carla, "peerB", o); problem.As(err).Code != "unreachable" {
		t.Fatalf("unreachable: %v", err)
	}
	if len(r.svc.OpenCalls(ctx, carla)) != 1 {
		t.Fatal("a call not reported is no longer offered")
	}
	down = false
	out, err := r.svc.SubmitOutcome(ctx, carla, "peerB", o)
	if err != nil || out.ID != "o-there" || got.Caregiver != "cg1" || got.Call != "rc1" {
		t.Fatalf("sent: %+v %v, request %+v", out, err, got)
	}
	if ch := r.svc.OpenCalls(ctx, carla); len(ch) != 0 {
		t.Fatalf("a reported call is still offered: %+v", ch)
	}
}
