package requests

import (
	"context"
	"errors"
	"testing"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// TestOperatorActsForCitizen: a proximity-point operator acting for a
// citizen requests, accepts and writes on the citizen's side; the request
// carries the citizen's name, not the operator's; every change is audited
// as "operator X for citizen Y" and listed in the citizen's activity; the
// citizen sees it all as their own; the operator acting for another
// citizen, or not acting at all, sees and touches nothing of it. An admin
// acting for a citizen is on the citizen's side, and the coop's admin
// acts on the coop's own cases.
func TestOperatorActsForCitizen(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.home.cfg.DisplayName = func(u string) string { return map[string]string{"anna": "Anna Bianchi"}[u] }
	op := auth.Actor{Username: "carla", Role: auth.Operator, For: "anna"}
	if _, err := r.home.Create(ctx, auth.Actor{Username: "carla", Role: auth.Operator}, newRequest(), "Carla"); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("an operator not acting for anyone requested: %v", err)
	}
	req, err := r.home.Create(ctx, op, newRequest(), "Carla Operatrice")
	if err != nil {
		t.Fatal(err)
	}
	if req.Citizen != "anna" {
		t.Fatalf("the request is %q's", req.Citizen)
	}
	r.settle(t)
	in, err := r.prov.Get(ctx, manager, req.ID)
	if err != nil || in.CitizenName != "Anna Bianchi" {
		t.Fatalf("the provider got %q (%v), want the citizen's name", in.CitizenName, err)
	}
	o, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	other := auth.Actor{Username: "carla", Role: auth.Operator, For: "bruno"}
	if _, err := r.home.Accept(ctx, other, req.ID, o.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("acting for another citizen accepted: %v", err)
	}
	if rs, _ := r.home.Requests(ctx, other); len(rs) != 0 {
		t.Fatalf("acting for another citizen lists %d requests", len(rs))
	}
	c, err := r.home.Accept(ctx, op, req.ID, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.home.Send(ctx, op, c.ID, NewMessage{Text: "scrivo per Anna"})
	if err != nil || m.Author != "carla" || m.For != "anna" {
		t.Fatalf("message %+v %v", m, err)
	}
	r.settle(t)
	// The coop's admin acts on the coop's case; an admin acting for a
	// citizen is on the citizen's side and sees only the citizen's.
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	pm, err := r.prov.Messages(ctx, admin, c.ID)
	if err != nil || len(pm) != 1 || pm[0].Author != "" || pm[0].For != "" {
		t.Fatalf("the provider's copy names who wrote: %+v %v", pm, err)
	}
	if _, err := r.prov.Transition(ctx, admin, c.ID, TransitionRequest{To: CaseSuspended, Reason: "ferie"}); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.prov.Cases(ctx, auth.Actor{Username: "admin", Role: auth.Admin, For: "anna"}); len(cs) != 0 {
		t.Fatalf("an admin acting for a citizen lists the coop's cases: %d", len(cs))
	}
	r.settle(t)
	hc, err := r.home.Case(ctx, citizen, c.ID)
	if err != nil || hc.State != CaseSuspended || len(hc.Messages) != 1 {
		t.Fatalf("the citizen's case: %+v %v", hc, err)
	}

	al := r.home.cfg.Audit
	evs, err := al.ForCitizen(ctx, "anna", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"create request": false, "create case": false, "create case_message": false}
	for _, e := range evs {
		if e.Actor != "carla" || e.For != "anna" {
			t.Fatalf("event for anna by %q for %q", e.Actor, e.For)
		}
		k := string(e.Action) + " " + e.Kind
		if _, ok := want[k]; ok {
			want[k] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no %q event for anna by carla: %+v", k, evs)
		}
	}
	byCarla, _ := al.Query(ctx, audit.Filter{Actor: "carla"})
	refused := false
	for _, e := range byCarla {
		refused = refused || (e.Action == audit.Denied && e.For == "bruno" && e.Object == req.ID)
	}
	if !refused {
		t.Fatalf("the refusal for another citizen is not audited: %+v", byCarla)
	}
}

// TestVoucherOnCase: a voucher the provider redeemed for a case is a
// payment of the case on both nodes (method "voucher"); only the
// provider records it, and only on a case it holds.
func TestVoucherOnCase(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	o, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	c, err := r.home.Accept(ctx, citizen, req.ID, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if r.home.HasCase(c.ID) || !r.prov.HasCase(c.ID) {
		t.Fatal("HasCase is the provider's cases only")
	}
	if err := r.home.RecordVoucher(ctx, citizen, c.ID, "v-1", 1250, r.clk.Now()); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a citizen recorded a voucher: %v", err)
	}
	if err := r.prov.RecordVoucher(ctx, manager, "pr-unknown", "v-1", 1250, r.clk.Now()); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("a voucher on an unknown case: %v", err)
	}
	if err := r.prov.RecordVoucher(ctx, manager, c.ID, "v-1", 1250, r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	p, err := r.home.CasePayments(ctx, citizen, c.ID)
	if err != nil || len(p.Payments) != 1 || p.Payments[0].Method != MethodVoucher || p.Payments[0].Amount != 12.5 || p.Paid != 12.5 {
		t.Fatalf("the citizen's payments: %+v %v", p, err)
	}
}
