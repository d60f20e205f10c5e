package node_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// TestLoneDemoNodeProposesOwnOfferings: a lone demo node trusts no
// authority, so nothing is qualified; a problem whose kind the coop's own
// offerings serve still gets them proposed, marked as its own, and the
// case page shows them.
func TestLoneDemoNodeProposesOwnOfferings(t *testing.T) {
	n := startDemo(t, node.Config{AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	ctx := context.Background()
	bens, err := n.Care().ListBeneficiaries(ctx, sysAdmin, care.Query{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bens.Items {
		if len(b.Caregivers) == 0 {
			continue
		}
		cg := auth.Actor{Username: "demo-cg", Role: auth.Caregiver, CaregiverID: b.Caregivers[0]}
		for _, kind := range escalation.Kinds {
			call := b.ID + "/" + kind
			if err := n.Escalation().Record(ctx, escalation.Event{Type: escalation.CallAnswered, Beneficiary: b.ID, Caregiver: cg.CaregiverID, Call: call}); err != nil {
				t.Fatal(err)
			}
			o, err := n.Escalation().RecordOutcome(ctx, cg, escalation.Outcome{Key: call, Beneficiary: b.ID, Call: call,
				Status: escalation.StatusProblem, Kind: kind, Urgency: "low", Actions: []string{escalation.ActProposeServices}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := n.Escalation().Case(ctx, sysAdmin, o.Case)
			if err != nil {
				t.Fatal(err)
			}
			if ps := c.Actions[0].Proposals; len(ps) > 0 {
				for _, p := range ps {
					if !p.Own || p.Publisher != n.PeerID() {
						t.Fatalf("lone node proposed %+v, want only its own", p)
					}
				}
				adm := login(t, n, "admin", "ponte-di-vetro-42")
				if code, body := adm.get("/cases/" + c.ID); code != http.StatusOK || !strings.Contains(body, html.EscapeString(ps[0].Name)) || !strings.Contains(body, "della nostra cooperativa") {
					t.Fatalf("case page %d does not show the own proposal %q", code, ps[0].Name)
				}
				return
			}
		}
	}
	t.Fatal("no problem of any demo beneficiary got a proposal")
}
