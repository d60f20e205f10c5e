package escalation

import "testing"

// TestCaseCopiesShareNothing: a case read from the service's collection
// can have its actions and timeline changed in place (as an
// acknowledgement marks an action done before the case is saved) without
// the stored case changing before its write.
func TestCaseCopiesShareNothing(t *testing.T) {
	r := newRig(t)
	c, _ := socialAlert(t, r)
	got, _ := r.svc.cases.Get(c.ID)
	got.Actions[0].State = ActionDone
	got.Actions[0].Proposals = append(got.Actions[0].Proposals, Proposal{State: "x"})
	if len(got.Timeline) > 0 {
		got.Timeline[0].What = "changed"
	}
	now, _ := r.svc.cases.Get(c.ID)
	if now.Actions[0].State == ActionDone || len(now.Actions[0].Proposals) != len(c.Actions[0].Proposals) {
		t.Fatalf("the stored case's actions changed through a copy: %+v", now.Actions)
	}
	if len(now.Timeline) > 0 && now.Timeline[0].What == "changed" {
		t.Fatal("the stored case's timeline changed through a copy")
	}
}
