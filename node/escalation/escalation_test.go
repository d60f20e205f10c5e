package escalation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

func problemOutcome(key string) Outcome {
	return Outcome{Key: key, Beneficiary: "b1", Call: "call1", Status: StatusProblem, Kind: "health", Urgency: "high",
		Note: "fell in the kitchen, bruised knee", Actions: []string{ActAlertFamily}}
}

func TestOutcomeWellOpensNoCase(t *testing.T) {
	r := newRig(t)
	r.call("call1", true)
	o, err := r.svc.RecordOutcome(context.Background(), carla, Outcome{Key: "k1", Beneficiary: "b1", Call: "call1", Status: StatusWell})
	if err != nil {
		t.Fatal(err)
	}
	if o.Case != "" || len(r.cases()) != 0 {
		t.Fatalf("all well opened a case: %+v", o)
	}
}

func TestOutcomeBadInput(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	r.call("rang", false)
	tests := []struct {
		name  string
		actor auth.Actor
		o     Outcome
		want  string
	}{
		{"no such call", carla, func() Outcome { o := problemOutcome("a"); o.Call = "nope"; return o }(), "no_call"},
		{"unanswered call", carla, func() Outcome { o := problemOutcome("b"); o.Call = "rang"; return o }(), "no_call"},
		{"caregiver not assigned", other, problemOutcome("c"), "forbidden"},
		{"admin, unanswered call", admin, func() Outcome { o := problemOutcome("d"); o.Call = "rang"; return o }(), "no_call"},
		{"bad kind", carla, func() Outcome { o := problemOutcome("e"); o.Kind = "weather"; return o }(), "invalid"},
		{"bad urgency", carla, func() Outcome { o := problemOutcome("f"); o.Urgency = "meh"; return o }(), "invalid"},
		{"bad action", carla, func() Outcome { o := problemOutcome("g"); o.Actions = []string{"pray"}; return o }(), "invalid"},
		{"no key", carla, problemOutcome(""), "invalid"},
		{"well with kind", carla, Outcome{Key: "h", Beneficiary: "b1", Call: "call1", Status: StatusWell, Kind: "health"}, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.svc.RecordOutcome(ctx, tc.actor, tc.o)
			if err == nil || problem.As(err).Code != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	if n := len(r.cases()); n != 0 {
		t.Fatalf("bad input opened %d cases", n)
	}
}

// TestAdminRecordsOutcome: the admin records the outcome of a caregiver's
// answered call; it stays the caregiver's, by the admin, and the form's
// choices offer it to the admin until then.
func TestAdminRecordsOutcome(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	if cs := r.svc.OpenCalls(ctx, admin); len(cs) != 1 || cs[0].ID != "call1" {
		t.Fatalf("admin's choices: %+v", cs)
	}
	o, err := r.svc.RecordOutcome(ctx, admin, problemOutcome("k-admin"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Caregiver != carla.CaregiverID || o.By != admin.Username || o.Case == "" {
		t.Fatalf("admin's outcome: %+v", o)
	}
	if cs := r.svc.OpenCalls(ctx, admin); len(cs) != 0 {
		t.Fatalf("a call with an outcome is still offered: %+v", cs)
	}
}

func TestOutcomeIdempotent(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	a, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1"))
	if err != nil || b.ID != a.ID || b.Case != a.Case {
		t.Fatalf("same key gave %+v, %v; want %+v", b, err, a)
	}
	if _, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k2")); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second outcome for the same call: %v", err)
	}
	if n := len(r.cases()); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	if n := len(r.out.to("luca@example.org")); n != 1 {
		t.Fatalf("%d alerts to family, want 1", n)
	}
}

func TestProblemAlertsFamilyAndEscalates(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	o, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1"))
	if err != nil {
		t.Fatal(err)
	}
	fam := r.out.to("luca@example.org")
	if len(fam) != 1 {
		t.Fatalf("family got %d messages", len(fam))
	}
	m := fam[0]
	// Minimal data: no name, address or note.
	for _, secret := range []string{"Maria", "Rossi", "Via Roma", "kitchen", "diabetic", "1936"} {
		if strings.Contains(m.Body+m.Subject, secret) || strings.Contains(strings.Join(mapValues(m.Data), " "), secret) {
			t.Fatalf("alert leaks %q: %s", secret, m.Body)
		}
	}
	for _, want := range []string{"high", "health", o.Case, "+39 011 000", "/escalation/ack/"} {
		if !strings.Contains(m.Body, want) {
			t.Fatalf("alert lacks %q: %s", want, m.Body)
		}
	}
	// Not acknowledged: repeated once after RepeatAfter...
	r.advance(9 * time.Minute)
	if n := len(r.out.to("luca@example.org")); n != 1 {
		t.Fatalf("repeated too early: %d", n)
	}
	r.advance(time.Minute)
	if n := len(r.out.to("luca@example.org")); n != 2 {
		t.Fatalf("after the repeat delay: %d messages, want 2", n)
	}
	// ...then escalated to the next contact after EscalateAfter.
	r.advance(19 * time.Minute)
	if n := len(r.out.to("ss@example.org")); n != 0 {
		t.Fatalf("escalated too early")
	}
	r.advance(time.Minute)
	ss := r.out.to("ss@example.org")
	if len(ss) != 1 {
		t.Fatalf("social services got %d messages after escalation", len(ss))
	}
	// Acknowledged through the link: no more messages, action done.
	tok := ss[0].AckURL[strings.LastIndex(ss[0].AckURL, "/")+1:]
	if _, err := r.svc.AckByToken(ctx, tok, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	before := len(r.out.all())
	r.advance(2 * time.Hour)
	if after := len(r.out.all()); after != before {
		t.Fatalf("acknowledged alert sent %d more", after-before)
	}
	c, err := r.svc.Case(ctx, admin, o.Case)
	if err != nil {
		t.Fatal(err)
	}
	if c.Actions[0].State != ActionDone {
		t.Fatalf("action %+v", c.Actions[0])
	}
	var steps []string
	for _, s := range c.Timeline {
		steps = append(steps, s.What)
	}
	want := "opened alert_sent alert_started alert_repeated alert_escalated alert_sent alert_acked"
	if got := strings.Join(steps, " "); got != want {
		t.Fatalf("timeline %q, want %q", got, want)
	}
	for _, w := range []string{"alert_escalated", "alert_acked", "alert_repeated"} {
		if !r.auditHas("case", w) {
			t.Fatalf("audit lacks %s", w)
		}
	}
	if _, err := r.svc.AckByToken(ctx, "forged", ""); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("forged token: %v", err)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestAlertChainExhaustedTellsAdmin(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.svc.SaveSettings(ctx, admin, Settings{Beneficiary: "b1", Chain: []Link{{Kind: "family", Channel: "email", To: "luca@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	r.call("call1", true)
	if _, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1")); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		r.advance(10 * time.Minute)
	}
	if n := len(r.out.to("admin")); n != 1 {
		t.Fatalf("admin got %d notices, want 1", n)
	}
	if n := len(r.out.to("luca@example.org")); n != 2 {
		t.Fatalf("family got %d, want 2 (first + one repeat)", n)
	}
}

func TestInAppAckByAlertedCaregiverOnly(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	o := problemOutcome("k1")
	o.Actions = []string{ActAlertCaregivers}
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.out.to("gino")) != 1 || len(r.out.to("carla")) != 0 {
		t.Fatalf("other caregivers: gino %d carla %d", len(r.out.to("gino")), len(r.out.to("carla")))
	}
	c, _ := r.svc.Case(ctx, admin, got.Case)
	alertID := c.Actions[0].Alert
	if _, err := r.svc.Ack(ctx, other, alertID); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("stranger acked: %v", err)
	}
	gino := carla
	gino.Username, gino.CaregiverID = "gino", "cg2"
	if _, err := r.svc.Ack(ctx, gino, alertID); err != nil {
		t.Fatal(err)
	}
}

func TestNoContactForActionIsVisible(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	p := r.dir.people["b1"]
	p.Contacts = nil
	r.dir.people["b1"] = p
	r.call("call1", true)
	o, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.svc.Case(ctx, admin, o.Case)
	if c.Actions[0].State != ActionNoContact || len(r.out.to("admin")) != 1 {
		t.Fatalf("action %+v, admin notices %d", c.Actions[0], len(r.out.to("admin")))
	}
}

func TestEmergencyCard(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.call("call1", true)
	o := problemOutcome("k1")
	o.Actions = []string{ActEmergency}
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		t.Fatal(err)
	}
	card, err := r.svc.Emergency(ctx, carla, got.Case)
	if err != nil || card.Number != "112" || card.Address != "Via Roma 1" {
		t.Fatalf("card %+v %v", card, err)
	}
	if _, err := r.svc.Emergency(ctx, other, got.Case); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("stranger read the card: %v", err)
	}
	c, err := r.svc.EmergencyCalled(ctx, carla, got.Case)
	if err != nil || c.Actions[0].State != ActionDone || c.Timeline[len(c.Timeline)-1].What != "emergency_called" {
		t.Fatalf("case %+v %v", c, err)
	}
}

func TestRemoteOutcomeNeedsGrant(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.cfg.Grants = grants{"peerA/cgX/b1": true}
	r.open()
	if err := r.svc.Record(ctx, Event{Type: CallAnswered, Beneficiary: "b1", Caregiver: "peerA/cgX", Call: "rc1"}); err != nil {
		t.Fatal(err)
	}
	o := problemOutcome("k1")
	o.Call, o.Caregiver = "rc1", "cgX"
	if _, err := r.svc.RecordRemoteOutcome(ctx, "peerB", o); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("ungranted peer: %v", err)
	}
	got, err := r.svc.RecordRemoteOutcome(ctx, "peerA", o)
	if err != nil || got.Case == "" {
		t.Fatalf("granted peer: %+v %v", got, err)
	}
}
