package node_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/testnet/poll"
)

// TestShortNoticeMissedCheckinOnRunningNode: on a running node with the
// real clock, a check-in agreed through the API shortly ahead, for a
// beneficiary whose terminal is off, opens its missed case at the agreed
// time, within the grace the coop configured. Schedules are agreed to the
// minute (wall clock in Europe/Rome), so the shortest notice the product
// allows is the next whole minute at least a few seconds away: between 5
// and 65 s, around the 60 s, and the test waits that long.
func TestShortNoticeMissedCheckinOnRunningNode(t *testing.T) {
	const grace = 20 * time.Second
	n := start(t, node.Config{AdminPassword: "admin-password-1", Escalation: node.EscalationConfig{Grace: grace}})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	adm := login(t, n, "admin", "admin-password-1")
	var cg, ben struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Carla Bianchi", "languages": []string{"it"}}, &cg)
	adm.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{
		"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272", "caregivers": []string{cg.ID},
		"contacts": []map[string]string{{"kind": "family", "name": "Luca Rossi", "email": "luca@example.org"}},
		"consent":  map[string]any{"given": true, "date": "2026-01-10"},
	}, &ben)
	// The terminal is assigned but never connected: off.
	adm.call(http.StatusCreated, "POST", "/api/v1/terminals", map[string]any{"label": "T-1", "model": "ThinkPad T440", "state": "in_service", "beneficiary": ben.ID}, nil)

	loc, err := time.LoadLocation(calls.Zone)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(5 * time.Second).Truncate(time.Minute).Add(time.Minute)
	wall := at.In(loc)
	adm.call(http.StatusCreated, "POST", "/api/v1/calls/schedules", map[string]any{
		"beneficiary": ben.ID, "caregiver": cg.ID, "time": wall.Format("15:04"), "start": wall.Format("2006-01-02"),
		"minutes": 1, "extra": []string{wall.Format("2006-01-02T15:04")},
	}, nil)
	t.Logf("check-in agreed %s ahead", time.Until(at).Round(time.Second))

	var missed escalation.Case
	poll.Until(t, time.Until(at)+time.Minute+grace+10*time.Second, "the missed case", func() bool {
		var cases struct{ Items []escalation.Case }
		adm.call(http.StatusOK, "GET", "/api/v1/cases?beneficiary="+ben.ID, nil, &cases)
		for _, c := range cases.Items {
			if c.Source == "missed" {
				missed = c
				return true
			}
		}
		return false
	})
	if missed.Reason != escalation.MissOffline || missed.OpenedAt.Before(at) || missed.OpenedAt.After(at.Add(grace)) {
		t.Fatalf("missed case %s opened at %s, want terminal_offline between %s and %s", missed.Reason, missed.OpenedAt, at, at.Add(grace))
	}
	t.Logf("opened %s after the agreed time", missed.OpenedAt.Sub(at).Round(time.Millisecond))
}
