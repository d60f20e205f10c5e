package escalation

import (
	"slices"
	"testing"
)

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

// TestAlertCopiesShareNothing: an alert read from the service's collection
// can have its tokens dropped in place (as a send drops the expired ones
// with slices.DeleteFunc) and its links rewritten in place (as the links'
// migration does) without the stored alert changing before its write.
func TestAlertCopiesShareNothing(t *testing.T) {
	r := newRig(t)
	_, al := socialAlert(t, r)
	if len(al.Links) == 0 || len(al.Tokens) == 0 {
		t.Fatalf("alert without links or tokens: %+v", al)
	}
	link, token := al.Links[0], al.Tokens[0]
	got, _ := r.svc.alerts.Get(al.ID)
	got.Links[0].Channel = "changed"
	got.Tokens = slices.DeleteFunc(got.Tokens, func(AckToken) bool { return true })
	for _, f := range r.svc.alerts.Filter(func(x *Alert) bool { return x.ID == al.ID }) {
		f.Links[0].Kind = "changed"
		f.Tokens[0].Hash = "changed"
	}
	now, _ := r.svc.alerts.Get(al.ID)
	if now.Links[0] != link {
		t.Fatalf("the stored alert's link changed through a copy: %+v, want %+v", now.Links[0], link)
	}
	if now.Tokens[0] != token {
		t.Fatalf("the stored alert's token changed through a copy: %+v, want %+v", now.Tokens[0], token)
	}
}
