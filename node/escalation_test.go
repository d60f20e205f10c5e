package node_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/escalation"
)

// TestEscalationAPI: through the node's HTTP API a caregiver records a
// problem after a call, the admin sees the case, its in-app alert and the
// dashboard with its CSV; a second submission with the same key changes
// nothing and an outcome for a call that never happened is refused.
func TestEscalationAPI(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "admin-password-1"})
	defer n.Close()
	adm := login(t, n, "admin", "admin-password-1")
	var cg struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Carla Bianchi", "languages": []string{"it"}}, &cg)
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "carla", "role": "caregiver", "caregiver_id": cg.ID, "password": "carla-password-1"}, nil)
	var ben struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{
		"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272", "caregivers": []string{cg.ID},
		"contacts": []map[string]string{{"kind": "family", "name": "Luca Rossi", "email": "luca@example.org"}},
		"consent":  map[string]any{"given": true, "date": "2026-01-10"},
	}, &ben)
	// A chain with the admin in-app, so the alert lands in an inbox.
	adm.call(http.StatusOK, "PUT", "/api/v1/escalation/settings/"+ben.ID, map[string]any{
		"chain": []map[string]string{{"kind": "family", "channel": "inapp", "to": "admin"}, {"kind": "family", "channel": "email", "to": "luca@example.org"}},
	}, nil)
	// node/calls reports the call.
	if err := n.Escalation().Record(context.Background(), escalation.Event{Type: escalation.CallAnswered, Beneficiary: ben.ID, Caregiver: cg.ID, Call: "call-1"}); err != nil {
		t.Fatal(err)
	}
	carla := login(t, n, "carla", "carla-password-1")
	body := map[string]any{"key": "k1", "beneficiary": ben.ID, "call": "call-1", "status": "problem", "kind": "loneliness",
		"urgency": "medium", "note": "she has not left home for two weeks", "actions": []string{"alert_family"}}
	var o escalation.Outcome
	carla.call(http.StatusCreated, "POST", "/api/v1/outcomes", body, &o)
	var again escalation.Outcome
	carla.call(http.StatusCreated, "POST", "/api/v1/outcomes", body, &again)
	if o.Case == "" || again.ID != o.ID {
		t.Fatalf("outcome %+v, again %+v", o, again)
	}
	body["key"], body["call"] = "k2", "never-happened"
	carla.call(http.StatusUnprocessableEntity, "POST", "/api/v1/outcomes", body, nil)

	var cases struct{ Items []escalation.Case }
	adm.call(http.StatusOK, "GET", "/api/v1/cases?state=open", nil, &cases)
	if len(cases.Items) != 1 || cases.Items[0].Kind != "loneliness" {
		t.Fatalf("cases %+v", cases.Items)
	}
	var inbox struct {
		Items  []struct{ Subject, Ref, Link string }
		Unread int
	}
	adm.call(http.StatusOK, "GET", "/api/v1/inbox", nil, &inbox)
	// In the admin's language, linking the case.
	if inbox.Unread != 1 || inbox.Items[0].Link != "/cases/"+o.Case || !strings.Contains(inbox.Items[0].Subject, "Solitudine") {
		t.Fatalf("admin inbox %+v", inbox)
	}
	adm.call(http.StatusOK, "POST", "/api/v1/alerts/"+inbox.Items[0].Ref+"/ack", nil, nil)
	var c escalation.Case
	adm.call(http.StatusOK, "GET", "/api/v1/cases/"+o.Case, nil, &c)
	if c.Actions[0].State != escalation.ActionDone {
		t.Fatalf("action after ack %+v", c.Actions[0])
	}
	carla.call(http.StatusForbidden, "GET", "/api/v1/escalation/dashboard", nil, nil)
	var d escalation.Dashboard
	adm.call(http.StatusOK, "GET", "/api/v1/escalation/dashboard", nil, &d)
	if d.Problems != 1 || d.ByKind[0].Key != "loneliness" {
		t.Fatalf("dashboard %+v", d)
	}
	req, _ := http.NewRequest("GET", n.URL()+"/api/v1/escalation/dashboard.csv", nil)
	req.Header.Set("Authorization", "Bearer "+adm.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(recs) < 4 {
		t.Fatalf("csv %q %v", raw, err)
	}
	named := false
	for _, rec := range recs {
		if rec[0] == "caregiver_problems" && rec[1] == cg.ID {
			named = rec[4] == "Carla Bianchi" && rec[3] == "1"
		}
	}
	if !named {
		t.Fatalf("csv has no caregiver_problems row for %s named Carla Bianchi with 1 problem: %q", cg.ID, raw)
	}
}

// get fetches a page with the client's token and returns status and body.
func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEscalationPages renders the case, emergency, dashboard and inbox pages.
func TestEscalationPages(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "admin-password-1"})
	defer n.Close()
	adm := login(t, n, "admin", "admin-password-1")
	var cg struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Carla Bianchi", "languages": []string{"it"}}, &cg)
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "carla", "role": "caregiver", "caregiver_id": cg.ID, "password": "carla-password-1"}, nil)
	var ben struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{
		"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272", "caregivers": []string{cg.ID},
		"consent": map[string]any{"given": true, "date": "2026-01-10"},
	}, &ben)
	if err := n.Escalation().Record(context.Background(), escalation.Event{Type: escalation.CallAnswered, Beneficiary: ben.ID, Caregiver: cg.ID, Call: "call-1"}); err != nil {
		t.Fatal(err)
	}
	carla := login(t, n, "carla", "carla-password-1")
	if code, body := carla.get("/cases/outcome"); code != 200 || !strings.Contains(body, "Maria Rossi") {
		t.Fatalf("outcome form %d", code)
	}
	var o escalation.Outcome
	carla.call(http.StatusCreated, "POST", "/api/v1/outcomes", map[string]any{"key": "k1", "beneficiary": ben.ID, "call": "call-1",
		"status": "problem", "kind": "health", "urgency": "critical", "actions": []string{"emergency", "propose_services"}}, &o)
	for _, tc := range []struct {
		c    *client
		path string
		want string
	}{
		{carla, "/cases", "Maria Rossi"},
		{carla, "/cases/" + o.Case, "Emergenza (112)"},
		{carla, "/cases/" + o.Case + "/emergency", "Via Roma 1"},
		{adm, "/dashboard", "<svg"},
		{adm, "/inbox", "<h1>"},
	} {
		code, body := tc.c.get(tc.path)
		if code != 200 || !strings.Contains(body, tc.want) || strings.Contains(body, "⟦") {
			t.Errorf("%s: %d, want %q; missing keys: %v", tc.path, code, tc.want, strings.Contains(body, "⟦"))
		}
	}
	if code, _ := carla.get("/dashboard"); code != http.StatusForbidden {
		t.Errorf("caregiver dashboard: %d", code)
	}
}
