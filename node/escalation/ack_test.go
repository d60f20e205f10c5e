package escalation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node/problem"
)

// tokenOf is the acknowledgement token in the n-th message to addr.
func (r *rig) tokenOf(addr string, n int) string {
	r.t.Helper()
	ms := r.out.to(addr)
	if len(ms) <= n {
		r.t.Fatalf("%s got %d messages, want %d", addr, len(ms), n+1)
	}
	u := ms[n].AckURL
	return u[strings.LastIndex(u, "/")+1:]
}

// familyAlert opens a case that alerts the family and returns its alert id.
func (r *rig) familyAlert(call, key string) string {
	r.t.Helper()
	ctx := context.Background()
	r.call(call, true)
	o := problemOutcome(key)
	o.Call = call
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := r.svc.Case(ctx, admin, got.Case)
	if err != nil {
		r.t.Fatal(err)
	}
	return c.Actions[0].Alert
}

// TestAckLinkWorksOnce: an acknowledgement link answers once; a replay, a
// reminder's link after the ack, an expired link and a forged one are all
// not found, and each refusal is audited.
func TestAckLinkWorksOnce(t *testing.T) {
	ctx := context.Background()
	notFound := func(t *testing.T, r *rig, tok, what string) {
		t.Helper()
		if _, err := r.svc.AckByToken(ctx, tok, "127.0.0.1"); !errors.Is(err, problem.ErrNotFound) {
			t.Fatalf("%s: %v, want not found", what, err)
		}
	}
	t.Run("replay", func(t *testing.T) {
		r := newRig(t)
		r.familyAlert("call1", "k1")
		r.advance(10 * time.Minute) // a reminder, with its own link
		first, second := r.tokenOf("luca@example.org", 0), r.tokenOf("luca@example.org", 1)
		al, err := r.svc.AckByToken(ctx, first, "127.0.0.1")
		if err != nil || al.State != AlertAcked || !strings.HasPrefix(al.AckedBy, "link:family#") {
			t.Fatalf("first use: %+v %v", al, err)
		}
		notFound(t, r, first, "the same link again")
		notFound(t, r, second, "the reminder's link after the ack")
		if !r.auditHas("alert", "used ack token") {
			t.Fatal("replay not audited")
		}
	})
	t.Run("expired", func(t *testing.T) {
		r := newRig(t)
		r.cfg.AckTTL = 2 * time.Hour
		r.open()
		r.familyAlert("call1", "k1")
		tok := r.tokenOf("luca@example.org", 0)
		r.clock.Advance(2 * time.Hour)
		notFound(t, r, tok, "a link past its expiry")
		if !r.auditHas("alert", "expired ack token") {
			t.Fatal("expired link not audited")
		}
		// A reminder sent now carries a fresh link, which works.
		r.advance(0)
		fresh := r.out.all()
		last := fresh[len(fresh)-1].AckURL
		if _, err := r.svc.AckByToken(ctx, last[strings.LastIndex(last, "/")+1:], ""); err != nil {
			t.Fatalf("the newest link: %v", err)
		}
	})
	t.Run("another alert's link", func(t *testing.T) {
		r := newRig(t)
		a1 := r.familyAlert("call1", "k1")
		a2 := r.familyAlert("call2", "k2")
		al, err := r.svc.AckByToken(ctx, r.tokenOf("luca@example.org", 1), "")
		if err != nil || al.ID != a2 {
			t.Fatalf("second alert's link acked %+v %v", al, err)
		}
		if x, _ := r.svc.alerts.Get(a1); x.State != AlertActive {
			t.Fatalf("first alert %s by another alert's link", x.State)
		}
		notFound(t, r, "forged", "a forged link")
	})
}

// TestLegacyAlertsMigrate: an alert and case stored before links had ids
// (names in the timeline, a comma list of token hashes) open without
// names, and the old link still acknowledges once.
func TestLegacyAlertsMigrate(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	tok, hash := newToken()
	al := Alert{ID: "a1", Case: "c1", Beneficiary: "b1", Action: ActAlertFamily, State: AlertActive, CreatedAt: t0,
		Links:     []Link{{Kind: "family", Name: "Luca Rossi", Channel: "email", To: "luca@example.org"}, {Kind: "social_services", Name: "Servizi sociali", Channel: "email", To: "ss@example.org"}},
		TokenHash: "x," + hash, NextAt: t0.Add(time.Hour)}
	c := Case{ID: "c1", Beneficiary: "b1", Source: "outcome", Kind: "health", Urgency: "high", State: CaseOpen, OpenedAt: t0,
		Actions:  []Action{{Kind: ActAlertFamily, State: ActionPending, Alert: "a1"}},
		Timeline: []Step{{At: t0, By: "node", What: "alert_sent", Detail: "a1 family:Luca Rossi #1 via email"}}}
	if err := r.svc.alerts.Put(ctx, al); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.cases.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	r.restart()
	got, _ := r.svc.alerts.Get("a1")
	c, _ = r.svc.cases.Get("c1")
	for _, l := range got.Links {
		if l.Name != "" || l.To != "" || l.ID == "" {
			t.Fatalf("migrated link %+v", l)
		}
	}
	if d := c.Timeline[0].Detail; strings.Contains(d, "Luca") || !strings.Contains(d, "family#"+got.Links[0].ID) {
		t.Fatalf("migrated step %q", d)
	}
	if _, err := r.svc.AckByToken(ctx, tok, ""); err != nil {
		t.Fatalf("old link: %v", err)
	}
	if _, err := r.svc.AckByToken(ctx, tok, ""); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("old link again: %v", err)
	}
}
