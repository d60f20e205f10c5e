package families

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestWhoFilesAndSees: a citizen files their own request; an operator
// acting for a citizen files one that is the citizen's; neither sees the
// other's; the admin sees every request with its match history; a
// request without a match is counted once by municipality and kind of
// work, with nothing else.
func TestWhoFilesAndSees(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	log, err := audit.Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	profiles, err := workers.NewProfiles(ctx, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, st.Namespace("/families"), log, nil, profiles, nil)
	if err != nil {
		t.Fatal(err)
	}
	rosa := auth.Actor{Username: "rosa", Role: auth.Citizen}
	ugo := auth.Actor{Username: "ugo", Role: auth.Citizen}
	// Nothing filed yet: an empty list, which the API answers as [], not null.
	if l, err := s.List(ctx, rosa); err != nil || l == nil || len(l) != 0 {
		t.Fatalf("rosa's list before any request: %#v, %v", l, err)
	}
	opForUgo := auth.Actor{Username: "op", Role: auth.Operator, For: "ugo"}
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	need := Request{Work: schema.WorkElderly, HoursPerWeek: 25, Municipality: "015146"}

	r1, err := s.Create(ctx, rosa, need)
	if err != nil || r1.Owner != "rosa" {
		t.Fatalf("citizen's request: %+v, %v", r1, err)
	}
	r2, err := s.Create(ctx, opForUgo, need)
	if err != nil || r2.Owner != "ugo" {
		t.Fatalf("operator acting for ugo: %+v, %v", r2, err)
	}
	if _, err := s.Create(ctx, auth.Actor{Username: "cg", Role: auth.Caregiver}, need); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a caregiver filed a request: %v", err)
	}
	if _, err := s.Get(ctx, ugo, r2.ID); err != nil {
		t.Fatalf("ugo cannot see the request filed for him: %v", err)
	}
	if _, err := s.Get(ctx, rosa, r2.ID); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("rosa sees ugo's request: %v", err)
	}
	if l, _ := s.List(ctx, rosa); len(l) != 1 || l[0].ID != r1.ID {
		t.Fatalf("rosa lists %+v", l)
	}
	for _, a := range []auth.Actor{rosa, rosa, opForUgo} {
		id := r1.ID
		if a.For != "" {
			id = r2.ID
		}
		if ms, err := s.Matches(ctx, a, id, "it"); err != nil || len(ms) != 0 {
			t.Fatalf("matches %v, %v", ms, err)
		}
	}
	all, err := s.List(ctx, admin)
	if err != nil || len(all) != 2 {
		t.Fatalf("admin lists %d, %v", len(all), err)
	}
	for _, r := range all {
		if len(r.History) == 0 {
			t.Errorf("request %s has no match history", r.ID)
		}
	}
	d, err := s.Demand(ctx, admin)
	if err != nil || len(d) != 1 || d[0] != (Demand{Municipality: "015146", Work: schema.WorkElderly, Requests: 2}) {
		t.Fatalf("demand %+v, %v", d, err)
	}
	if _, err := s.Demand(ctx, rosa); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a citizen read the demand: %v", err)
	}
}
