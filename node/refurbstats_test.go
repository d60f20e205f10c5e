package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/workshop"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// TestRefurbStatsReachTheAuthority: a coop takes in two donated PCs and a
// worker logs hours; its node publishes the figures as one signed
// refurbstats entry, which reaches the authority's node, whose officer
// reads the coop's figures by name, summed; a caregiver there may not. No
// worker, donor or serial is in the entry or in what the officer reads.
func TestRefurbStatsReachTheAuthority(t *testing.T) {
	coop, authority := nodetest.Pair(t, node.Config{CoopName: "Cooperativa Sole"}, node.Config{CoopName: "Comune di Sesto"})
	adm := login(t, coop, "admin", nodetest.AdminPassword)
	const worker, donor, serial = "canaryworkerzq", "CANARYDONORZQ", "CANARYSERIALZQ"
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": worker, "role": "refurbisher", "password": "tramonto-sul-lago-blu"}, nil)
	w := login(t, coop, worker, "tramonto-sul-lago-blu")
	today := time.Now().UTC().Format(time.DateOnly)
	var taken workshop.Taken
	for i, s := range []string{serial + "1", serial + "2"} {
		w.call(http.StatusCreated, "POST", "/api/v1/terminals/intake", map[string]any{"donor": donor, "date": today, "model": "ThinkPad X220", "serial": s}, &taken)
		w.call(http.StatusCreated, "POST", "/api/v1/refurbishment/worklog", map[string]any{"terminal": taken.ID, "step": "recovered", "minutes": 90 + 30*i, "date": today}, nil)
	}

	aadm := login(t, authority, "admin", nodetest.AdminPassword)
	aadm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "ufficio", "role": "officer", "password": "ponte-di-vetro-42"}, nil)
	aadm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "cura", "role": "caregiver", "password": "ponte-di-vetro-42"}, nil)
	officer := login(t, authority, "ufficio", "ponte-di-vetro-42")
	var got workshop.FederationFigures
	raw := ""
	defer func() {
		if t.Failed() {
			t.Logf("last answer: %s", raw)
		}
	}()
	poll.Until(t, 20*time.Second, "the coop's figures at the authority", func() bool {
		got = workshop.FederationFigures{}
		code, body := officer.get("/api/v1/authority/refurbishment")
		raw = body
		if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
			return false
		}
		return len(got.Coops) == 1 && got.Coops[0].Recovered == 2 && got.Coops[0].Hours == 3.5
	})
	c := got.Coops[0]
	if c.Coop != "Cooperativa Sole" || c.Workers != 1 || c.Delivered != 0 || c.KgAvoided != 0 || got.Total.Recovered != 2 || got.Total.Hours != 3.5 {
		t.Fatalf("authority's figures %+v", got)
	}
	if code, body := officer.get("/authority/refurbishment"); code != http.StatusOK || !strings.Contains(body, "<th scope=\"row\">Cooperativa Sole</th><td>2</td>") || !strings.Contains(body, "PC recuperati") {
		t.Fatalf("officer's page %d:\n%s", code, body)
	}
	if _, body := officer.get("/"); !strings.Contains(body, `href="/authority/refurbishment"`) {
		t.Fatalf("officer's home has no link to the figures:\n%s", body)
	}
	cura := login(t, authority, "cura", "ponte-di-vetro-42")
	if code, _ := cura.get("/authority/refurbishment"); code != http.StatusForbidden {
		t.Fatalf("caregiver on the figures page: %d", code)
	}
	cura.call(http.StatusForbidden, "GET", "/api/v1/authority/refurbishment", nil, nil)

	// What left the coop: the signed entry, counts only.
	var bodies []string
	if err := coop.Federation().Replica().Current(context.Background(), schema.KindRefurbStats, func(e *schema.Entry) error {
		bodies = append(bodies, string(e.Body))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 {
		t.Fatalf("refurbstats entries %q", bodies)
	}
	for _, s := range []string{bodies[0], raw} {
		for _, canary := range []string{worker, donor, serial, "ThinkPad"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(canary)) {
				t.Fatalf("%q left the coop in %s", canary, s)
			}
		}
	}
}
