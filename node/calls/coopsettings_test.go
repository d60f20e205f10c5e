package calls

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// The admin's call-back time replaces the node's default for the requests
// made from then on; a caregiver can neither read nor change it; a time
// beyond a day or below zero is refused; zero goes back to the default.
func TestCoopRequestWait(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, _ := newService(t, clk)
	carla := auth.Actor{Username: "carla", Role: auth.Caregiver, CaregiverID: "cg1"}
	st, err := s.Coop(ctx, adminActor)
	if err != nil || st.RequestWaitMinutes != 0 || st.DefaultMinutes != 30 {
		t.Fatalf("coop settings at first: %+v %v", st, err)
	}
	r1, _ := s.openRequest("ben1", "dev1")
	if got := r1.Due.Sub(r1.At); got != DefaultRequestWait {
		t.Fatalf("first request due after %v, want the default", got)
	}
	if _, err := s.SaveCoop(ctx, carla, CoopSettings{RequestWaitMinutes: 5}); problem.As(err).Status != 403 {
		t.Fatalf("a caregiver sets the wait: %v", err)
	}
	if _, err := s.Coop(ctx, carla); problem.As(err).Status != 403 {
		t.Fatalf("a caregiver reads the coop settings: %v", err)
	}
	for _, bad := range []int{-1, MaxRequestWaitMinutes + 1} {
		if _, err := s.SaveCoop(ctx, adminActor, CoopSettings{RequestWaitMinutes: bad}); problem.As(err).Code != "invalid" {
			t.Fatalf("wait %d: %v, want invalid", bad, err)
		}
	}
	st, err = s.SaveCoop(ctx, adminActor, CoopSettings{RequestWaitMinutes: 10, DefaultMinutes: 99})
	if err != nil || st.RequestWaitMinutes != 10 || st.DefaultMinutes != 30 {
		t.Fatalf("saved: %+v %v", st, err)
	}
	// The waiting request keeps its time; a new one gets the coop's.
	if _, err := s.CloseRequest(ctx, adminActor, r1.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.requests.Get(r1.ID); !r.Due.Equal(r1.Due) {
		t.Fatalf("the waiting request's time changed: %v", r.Due)
	}
	r2, ok := s.openRequest("ben1", "dev1")
	if !ok || r2.Due.Sub(r2.At) != 10*time.Minute {
		t.Fatalf("new request due after %v, want 10m", r2.Due.Sub(r2.At))
	}
	if _, err := s.SaveCoop(ctx, adminActor, CoopSettings{}); err != nil {
		t.Fatal(err)
	}
	if s.requestWait() != DefaultRequestWait {
		t.Fatalf("wait back to %v, want the default", s.requestWait())
	}
}

// Imported call records are listed like live ones; a record of an unknown
// person, of the future, or answered without a duration is refused; only
// an admin imports.
func TestImportRecords(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, _ := newService(t, clk)
	past := clk.Now().Add(-48 * time.Hour).UTC()
	good := []Record{
		{ID: "r1", Beneficiary: "ben1", Caregiver: "cg1", Started: past, Answered: true, AnsweredAt: past.Add(10 * time.Second), Ended: past.Add(8 * time.Minute), Seconds: 470},
		{ID: "r2", Beneficiary: "ben1", Caregiver: "cg1", Started: past.Add(time.Hour), Ended: past.Add(time.Hour + time.Minute), EndReason: "unanswered"},
	}
	if err := s.ImportRecords(ctx, auth.Actor{Username: "carla", Role: auth.Caregiver, CaregiverID: "cg1"}, good); problem.As(err).Status != 403 {
		t.Fatalf("a caregiver imports records: %v", err)
	}
	for _, bad := range []Record{
		{ID: "x", Beneficiary: "nobody", Started: past, Ended: past},
		{ID: "x", Beneficiary: "ben1", Started: clk.Now().Add(time.Hour), Ended: clk.Now().Add(2 * time.Hour)},
		{ID: "x", Beneficiary: "ben1", Started: past, Ended: past.Add(time.Minute), Answered: true},
	} {
		if err := s.ImportRecords(ctx, adminActor, []Record{bad}); problem.As(err).Code != "invalid" {
			t.Fatalf("record %+v: %v, want invalid", bad, err)
		}
	}
	if err := s.ImportRecords(ctx, adminActor, good); err != nil {
		t.Fatal(err)
	}
	rs := s.Records(adminActor, "ben1")
	if len(rs) != 2 || rs[0].ID != "r2" || !rs[1].Answered || rs[1].Seconds != 470 {
		t.Fatalf("records %+v", rs)
	}
}
