package escalation

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/node/problem"
)

// Imported history counts on the dashboard like history made live, stays
// inert for the scheduler, and only an admin may import it.
func TestImportHistoryCountsOnTheDashboard(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := r.clock.Now().UTC()
	past := now.Add(-10 * 24 * time.Hour)
	ws := []Window{
		{ID: "h1", Beneficiary: "b1", Caregiver: "cg1", Start: past, Deadline: past.Add(time.Hour), State: WindowDone},
		{ID: "h2", Beneficiary: "b1", Caregiver: "cg1", Start: past.Add(24 * time.Hour), Deadline: past.Add(25 * time.Hour), State: WindowDone},
		{ID: "h3", Beneficiary: "b1", Caregiver: "cg1", Start: past.Add(48 * time.Hour), Deadline: past.Add(49 * time.Hour), State: WindowMissed},
	}
	cs := []Case{
		{Beneficiary: "b1", Municipality: "001272", Caregiver: "cg1", Source: "outcome", Kind: "loneliness", Urgency: "medium", State: CaseOpen, OpenedAt: past},
		{Beneficiary: "b1", Municipality: "001272", Caregiver: "cg1", Source: "outcome", Kind: "home", Urgency: "low", State: CaseClosed, OpenedAt: past, ClosedAt: past.Add(time.Hour)},
	}
	if err := r.svc.ImportHistory(ctx, carla, ws, cs); problem.As(err).Status != 403 {
		t.Fatalf("a caregiver imports history: %v", err)
	}
	future := []Window{{ID: "f", Beneficiary: "b1", Start: now.Add(time.Hour), State: WindowDone}}
	if err := r.svc.ImportHistory(ctx, admin, future, nil); problem.As(err).Code != "invalid" {
		t.Fatalf("a window to come: %v, want invalid", err)
	}
	if err := r.svc.ImportHistory(ctx, admin, ws, cs); err != nil {
		t.Fatal(err)
	}
	d, err := r.svc.Dashboard(ctx, admin, now.Add(-30*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Done != 2 || d.Missed != 1 || d.Problems != 2 || len(d.Open) != 1 {
		t.Fatalf("dashboard done %d missed %d problems %d open %d, want 2 1 2 1", d.Done, d.Missed, d.Problems, len(d.Open))
	}
	// The scheduler leaves the imported windows alone.
	r.advance(time.Hour)
	if w, _ := r.svc.windows.Get("h3"); w.State != WindowMissed {
		t.Errorf("imported missed window is now %s", w.State)
	}
	if !r.auditHas("case", "import outcome") {
		t.Error("the imported cases are not audited")
	}
}

// Imported calls count: an answered call outside the agreed windows is a
// contact made; one inside a done window is that window; an outcome must
// name a call that happened.
func TestImportCallsCountsContactsOutsideWindows(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := r.clock.Now().UTC()
	past := now.Add(-10 * 24 * time.Hour)
	ws := []Window{{ID: "h1", Beneficiary: "b1", Caregiver: "cg1", Start: past, Deadline: past.Add(time.Hour), State: WindowDone, How: string(CallAnswered)}}
	calls := []CallSeen{
		{ID: "c1", Beneficiary: "b1", Caregiver: "cg1", At: past.Add(10 * time.Minute), Answered: true},
		{ID: "c2", Beneficiary: "b1", Caregiver: "cg1", At: past.Add(50 * time.Hour), Answered: true},
		{ID: "c3", Beneficiary: "b1", Caregiver: "cg1", At: past.Add(70 * time.Hour)},
	}
	os := []Outcome{
		{ID: "o1", Key: "k1", Beneficiary: "b1", Caregiver: "cg1", Call: "c1", Status: StatusWell, By: "carla", At: past.Add(30 * time.Minute)},
		{ID: "o2", Key: "k2", Beneficiary: "b1", Caregiver: "cg1", Call: "c2", Status: StatusWell, By: "carla", At: past.Add(51 * time.Hour)},
	}
	if err := r.svc.ImportCalls(ctx, carla, calls, os); problem.As(err).Status != 403 {
		t.Fatalf("a caregiver imports calls: %v", err)
	}
	stray := []Outcome{{ID: "o3", Key: "k3", Beneficiary: "b1", Call: "nope", Status: StatusWell, At: past}}
	if err := r.svc.ImportCalls(ctx, admin, calls, stray); problem.As(err).Code != "invalid" {
		t.Fatalf("an outcome of no call: %v, want invalid", err)
	}
	if err := r.svc.ImportHistory(ctx, admin, ws, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.ImportCalls(ctx, admin, calls, os); err != nil {
		t.Fatal(err)
	}
	d, err := r.svc.Dashboard(ctx, admin, now.Add(-30*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Done != 2 {
		t.Fatalf("contacts made %d, want 2 (the window and the call outside it)", d.Done)
	}
	if o, ok := r.svc.outcomes.Get("o2"); !ok || o.Call != "c2" {
		t.Fatalf("imported outcome %+v %v", o, ok)
	}
	if !r.auditHas("outcome", "import well") {
		t.Error("the imported outcomes are not audited")
	}
}
