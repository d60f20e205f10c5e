package escalation

import (
	"context"
	"testing"
	"time"
)

// socialAlert records a problem outcome asking to alert social services and
// returns the alert it started.
func socialAlert(t *testing.T, r *rig) (Case, Alert) {
	t.Helper()
	ctx := context.Background()
	r.call("call1", true)
	o := problemOutcome("k1")
	o.Actions = []string{ActAlertSocial}
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.svc.Case(ctx, admin, got.Case)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Actions) != 1 || c.Actions[0].Kind != ActAlertSocial || c.Actions[0].State == ActionNoContact || c.Actions[0].Alert == "" {
		t.Fatalf("social services action %+v: want an alert started", c.Actions)
	}
	al, ok := r.svc.alerts.Get(c.Actions[0].Alert)
	if !ok {
		t.Fatalf("alert %s not stored", c.Actions[0].Alert)
	}
	return c, al
}

// linkKinds says whom an alert's links reach: the alert keeps them bare
// (role and opaque id), the service resolves them.
func linkKinds(r *rig, al Alert) []string {
	var out []string
	for _, l := range al.Links {
		if l.To != "" || l.Name != "" {
			r.t.Fatalf("alert %s keeps whom link %s reaches", al.ID, l.Ref())
		}
		full, _ := r.svc.resolve(context.Background(), al.Beneficiary, l)
		out = append(out, l.Kind+":"+full.To)
	}
	return out
}

// TestSocialAlertGoesToSocialServicesFirst: the registry lists the family
// before social services, yet an alert for social services reaches them
// first and only escalates to the family when nobody acknowledges.
func TestSocialAlertGoesToSocialServicesFirst(t *testing.T) {
	r := newRig(t)
	_, al := socialAlert(t, r)
	want := []string{"social_services:ss@example.org", "family:luca@example.org"}
	if got := linkKinds(r, al); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("alert chain %v, want %v", got, want)
	}
	if ss, fam := len(r.out.to("ss@example.org")), len(r.out.to("luca@example.org")); ss != 1 || fam != 0 {
		t.Fatalf("first send: social services %d, family %d; want 1 and 0", ss, fam)
	}
	// Repeated to social services (RepeatAfter 10 min, one repeat), then
	// escalated to the family after EscalateAfter (20 min).
	r.advance(10 * time.Minute)
	if ss, fam := len(r.out.to("ss@example.org")), len(r.out.to("luca@example.org")); ss != 2 || fam != 0 {
		t.Fatalf("after the repeat: social services %d, family %d; want 2 and 0", ss, fam)
	}
	r.advance(20 * time.Minute)
	if fam := len(r.out.to("luca@example.org")); fam != 1 {
		t.Fatalf("after escalation the family got %d, want 1", fam)
	}
}

// TestSocialAlertWithOnlySocialServices: a chain that holds nothing but
// social services still alerts them; it is not a case without contacts.
func TestSocialAlertWithOnlySocialServices(t *testing.T) {
	r := newRig(t)
	p := r.dir.people["b1"]
	p.Contacts = []Contact{{Kind: "social_services", Name: "Servizi sociali", Email: "ss@example.org"}}
	r.dir.people["b1"] = p
	_, al := socialAlert(t, r)
	if got := linkKinds(r, al); len(got) != 1 || got[0] != "social_services:ss@example.org" {
		t.Fatalf("alert chain %v, want social services alone", got)
	}
	if n := len(r.out.to("ss@example.org")); n != 1 {
		t.Fatalf("social services got %d messages, want 1", n)
	}
	if n := len(r.out.to("admin")); n != 0 {
		t.Fatalf("admin told %d times of a case that has a contact", n)
	}
}

// TestSocialAlertOrderFromSettings: with a chain chosen by the coop, social
// services move to the front and the others keep their order behind them.
func TestSocialAlertOrderFromSettings(t *testing.T) {
	r := newRig(t)
	chain := []Link{
		{Kind: "neighbour", Channel: "email", To: "anna@example.org"},
		{Kind: "family", Channel: "email", To: "luca@example.org"},
		{Kind: "social_services", Channel: "email", To: "ss@example.org"},
		{Kind: "gp", Channel: "email", To: "gp@example.org"},
	}
	if _, err := r.svc.SaveSettings(context.Background(), admin, Settings{Beneficiary: "b1", Chain: chain}); err != nil {
		t.Fatal(err)
	}
	_, al := socialAlert(t, r)
	want := []string{"social_services:ss@example.org", "neighbour:anna@example.org", "family:luca@example.org", "gp:gp@example.org"}
	got := linkKinds(r, al)
	if len(got) != len(want) {
		t.Fatalf("alert chain %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("alert chain %v, want %v", got, want)
		}
	}
	if n := len(r.out.to("ss@example.org")); n != 1 || len(r.out.all()) != 1 {
		t.Fatalf("first send went to %d messages (%d to social services), want one to social services", len(r.out.all()), n)
	}
}
