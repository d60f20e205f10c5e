package demo

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
)

// The demo history makes a newcomer's dashboard and beneficiary pages
// alive: weeks of contacts made and missed, calls with their length and
// outcomes, calls back outside the agreed check-ins counted as contacts,
// and cases whose outcome exists. The same seed gives the same history.
func TestSeedHistoryMakesTheDashboardAlive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{DataDir: t.TempDir(), AdminPassword: "ponte-di-vetro-42", NoFederation: true, HTTPListener: ln,
		Argon: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := Seed(ctx, n.Care(), n.Own(), n.Auth(), Options{Password: "ponte-di-vetro-42"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h, err := SeedHistory(ctx, n.Care(), n.Escalation(), n.Calls(), now, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h.Done < 50 || h.Missed == 0 || h.Calls <= h.Done || h.Outcomes < h.Done || h.CallBacks == 0 || h.Open != 2 {
		t.Fatalf("history %+v", h)
	}
	d, err := n.Escalation().Dashboard(ctx, system, now.AddDate(0, 0, -historyWeeks*7-1), now)
	if err != nil {
		t.Fatal(err)
	}
	// Every agreed check-in counts once, and every call back outside them
	// adds a contact: more contacts than check-ins done.
	if d.Done <= h.Done || d.Missed != h.Missed || d.Problems != h.Cases || len(d.Open) != 2 || len(d.ByMonth) < 2 || len(d.ByCaregiver) < 4 {
		t.Fatalf("dashboard done %d missed %d problems %d open %d months %d caregivers %d; history %+v",
			d.Done, d.Missed, d.Problems, len(d.Open), len(d.ByMonth), len(d.ByCaregiver), h)
	}
	bens, err := n.Care().ListBeneficiaries(ctx, system, care.Query{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bens.Items {
		rs := n.Calls().Records(system, b.ID)
		if len(rs) < 6 || !rs[0].Started.Before(now) {
			t.Fatalf("%s has %d call records", b.ID, len(rs))
		}
		answered := 0
		for _, r := range rs {
			if r.Answered && r.Seconds > 0 {
				answered++
			}
		}
		if answered == 0 {
			t.Fatalf("%s has no answered call with a length", b.ID)
		}
	}
	for _, oc := range d.Open {
		c, err := n.Escalation().Case(ctx, system, oc.ID)
		if err != nil || c.Outcome == "" {
			t.Fatalf("open case %s: %+v %v", oc.ID, c, err)
		}
	}
}
