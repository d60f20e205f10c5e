package requests

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// TestDemandSurvivesRestart: the counts of searches with no result and
// of requests, kept in memory and written in batches, are on disk after
// the service closes and read back when it opens again; only the admin
// and officers read them.
func TestDemandSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	clk := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	cat := catalogue{"off1": {Publisher: provID, ID: "off1", Name: "Assistenza", Category: "anziani.assistenza-domiciliare"}}
	open := func() *Service {
		s, err := Open(ctx, Config{Store: st.Namespace("/requests"), Clock: clk, Self: homeID, Catalogue: cat})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	s.NoResult(ctx, "", "")
	s.NoResult(ctx, "", "")
	s.NoResult(ctx, "anziani.assistenza-domiciliare", "015146")
	if _, err := s.Create(ctx, citizen, newRequest(), "Anna"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	if _, err := s.Demand(ctx, auth.Actor{Username: "anna", Role: auth.Citizen}); err != problem.ErrForbidden {
		t.Fatalf("a citizen read the demand record: %v", err)
	}
	d, err := s.Demand(ctx, auth.Actor{Username: "admin", Role: auth.Admin})
	if err != nil {
		t.Fatal(err)
	}
	want := map[DemandCount]bool{
		{Kind: DemandNoResult, Count: 2}: true,
		{Kind: DemandNoResult, Category: "anziani.assistenza-domiciliare", Municipality: "015146", Count: 1}: true,
		{Kind: DemandRequest, Category: "anziani.assistenza-domiciliare", Municipality: "015146", Count: 1}:  true,
	}
	if len(d) != len(want) {
		t.Fatalf("demand after restart %+v", d)
	}
	for _, c := range d {
		if !want[c] {
			t.Fatalf("demand after restart %+v", d)
		}
	}
}
