package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/problem"
)

// TestCrossNodeOutcome: a caregiver of node A records a problem for a
// beneficiary of node B over the outcome protocol; the case exists on B,
// not on A, and B's contacts are alerted.
func TestCrossNodeOutcome(t *testing.T) {
	mn, err := mocknet.FullMeshLinked(2)
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	ha, hb := mn.Hosts()[0], mn.Hosts()[1]
	nodeA, nodeB := newRig(t), newRig(t)
	nodeA.dir.people = map[string]Person{} // A has no beneficiaries
	nodeB.cfg.Grants = grants{ha.ID().String() + "/cgA/b1": true}
	nodeB.open()
	lb := federation.NewOutcomeLink(hb, nodeB.svc.HandleRemote)
	defer lb.Close()
	la := federation.NewOutcomeLink(ha, nodeA.svc.HandleRemote)
	defer la.Close()
	ctx := context.Background()
	// The call went A -> B; node/calls on B reports it.
	if err := nodeB.svc.Record(ctx, Event{Type: CallAnswered, Beneficiary: "b1", Caregiver: ha.ID().String() + "/cgA", Call: "xc1"}); err != nil {
		t.Fatal(err)
	}
	anna := carla
	anna.Username, anna.CaregiverID = "anna", "cgA"
	o := problemOutcome("k-remote")
	o.Call = "xc1"
	ans, err := SendOutcome(ctx, la, anna, nodeA.audit, hb.ID().String(), o)
	if err != nil || !ans.OK || ans.Case == "" {
		t.Fatalf("answer %+v err %v", ans, err)
	}
	// Again with the same key (a lost answer): the same case, no new alert.
	ans2, err := SendOutcome(ctx, la, anna, nodeA.audit, hb.ID().String(), o)
	if err != nil || ans2.Case != ans.Case {
		t.Fatalf("resend %+v %v", ans2, err)
	}
	if n := len(nodeB.cases()); n != 1 {
		t.Fatalf("B has %d cases", n)
	}
	if n := len(nodeA.cases()); n != 0 {
		t.Fatalf("A has %d cases", n)
	}
	if n := len(nodeB.out.to("luca@example.org")); n != 1 {
		t.Fatalf("B's family contact got %d alerts", n)
	}
	if len(nodeA.out.all()) != 0 {
		t.Fatal("A sent alerts")
	}
	// A caregiver of A without a grant is refused by B.
	bruno := anna
	bruno.CaregiverID = "cgB"
	o.Key = "k-other"
	if _, err := SendOutcome(ctx, la, bruno, nodeA.audit, hb.ID().String(), o); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("ungranted caregiver: %v", err)
	}
	// An outcome for a call B never saw.
	o.Key, o.Call = "k-nocall", "never"
	if _, err := SendOutcome(ctx, la, anna, nodeA.audit, hb.ID().String(), o); problem.As(err).Code != "no_call" {
		t.Fatalf("no call: %v", err)
	}
	// Malformed bytes get a clear answer.
	raw, err := la.Send(ctx, hb.ID().String(), []byte(`{"v":1,"evil":true}`))
	var a RemoteAnswer
	if err != nil || json.Unmarshal(raw, &a) != nil || a.OK || a.Code != "malformed" {
		t.Fatalf("malformed: %s %v", raw, err)
	}
}

func FuzzDecodeRemote(f *testing.F) {
	f.Add([]byte(`{"v":1,"key":"k","beneficiary":"b1","caregiver":"c","call":"x","status":"problem","kind":"health","urgency":"high","actions":["alert_family"]}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1}{"v":1}`))
	f.Add([]byte(`{"v":1,"actions":["a","b","c","d","e","f","g"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRemote(b)
		if err != nil {
			return
		}
		if r.V != 1 || len(r.Actions) > len(ActionKinds) {
			t.Fatalf("accepted %+v", r)
		}
		// What was accepted re-encodes and decodes to the same.
		again, _ := json.Marshal(r)
		r2, err := DecodeRemote(again)
		if err != nil || r2.Key != r.Key || r2.Note != r.Note {
			t.Fatalf("round trip %v", err)
		}
	})
}
