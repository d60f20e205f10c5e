package node_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/escalation"
)

// TestAlertChainNoPersonalData runs an alert chain on a node that logs
// everything as JSON: contacts and chain links carry canary names, e-mail
// addresses and phones; the case (its timeline), its alert records as the
// API shows them, the caregiver's inbox and the log must hold none. (The
// escalation package's own canary test drives the whole chain on a fake
// clock, webhooks and failures included.)
func TestAlertChainNoPersonalData(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := start(t, node.Config{Logger: logger, AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	ctx := context.Background()
	admin := login(t, n, "admin", "ponte-di-vetro-42")
	canaries := []string{"CanaryFamXq", "canaryfam@example.org", "+39 333 7770001", "CanaryRelXq", "CanarySsXq",
		"canaryss@example.org", "CanaryChainXq", "canarychain@example.org", "CanaryHookXq", "CanaryInappXq"}
	var cg, b struct{ ID string }
	admin.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Carla Bianchi", "languages": []string{"it"}}, &cg)
	admin.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Gino Verdi", "languages": []string{"it"}}, nil)
	admin.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "carla", "role": "caregiver", "caregiver_id": cg.ID, "password": "carla-password-1"}, nil)
	admin.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{
		"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272", "caregivers": []string{cg.ID},
		"contacts": []map[string]string{
			{"kind": "family", "name": "CanaryFamXq", "email": "canaryfam@example.org", "phone": "+39 333 7770001", "relation": "CanaryRelXq"},
			{"kind": "social_services", "name": "CanarySsXq", "email": "canaryss@example.org"},
		},
		"consent": map[string]any{"given": true, "date": "2026-01-10"},
	}, &b)
	carla := login(t, n, "carla", "carla-password-1")
	outcome := func(call string, actions ...string) string {
		t.Helper()
		if err := n.Escalation().Record(ctx, escalation.Event{Type: escalation.CallAnswered, Beneficiary: b.ID, Caregiver: cg.ID, Call: call}); err != nil {
			t.Fatal(err)
		}
		var o escalation.Outcome
		carla.call(http.StatusCreated, "POST", "/api/v1/outcomes", map[string]any{"key": call, "beneficiary": b.ID, "call": call,
			"status": "problem", "kind": "food", "urgency": "high", "actions": actions}, &o)
		return o.Case
	}
	// The registry's contacts, then a chain set by the coop.
	cases := []string{outcome("call-1", "alert_family", "alert_social")}
	admin.call(http.StatusOK, "PUT", "/api/v1/escalation/settings/"+b.ID, map[string]any{"chain": []map[string]string{
		{"kind": "family", "name": "CanaryInappXq", "channel": "inapp", "to": "carla"},
		{"kind": "other", "name": "CanaryHookXq", "channel": "webhook", "to": "https://hooks.example/escalation"},
		{"kind": "gp", "name": "CanaryChainXq", "channel": "email", "to": "canarychain@example.org"},
	}}, nil)
	cases = append(cases, outcome("call-2", "alert_family"))

	var shown []json.RawMessage
	for _, id := range cases {
		var c, als json.RawMessage
		admin.call(http.StatusOK, "GET", "/api/v1/cases/"+id, nil, &c)
		admin.call(http.StatusOK, "GET", "/api/v1/cases/"+id+"/alerts", nil, &als)
		shown = append(shown, c, als)
	}
	var inbox json.RawMessage
	carla.call(http.StatusOK, "GET", "/api/v1/inbox", nil, &inbox)
	if !strings.Contains(string(inbox), cases[1]) {
		t.Fatalf("the in-app link was never alerted: %s", inbox)
	}
	shown = append(shown, inbox)
	for _, raw := range shown {
		for _, c := range canaries {
			if strings.Contains(string(raw), c) {
				t.Errorf("API shows %q in %s", c, raw)
			}
		}
	}
	n.Close()
	out := logs.String()
	if !strings.Contains(out, `"component"`) {
		t.Fatalf("the node logged nothing; the test would prove nothing:\n%s", out)
	}
	for _, c := range canaries {
		if strings.Contains(out, c) {
			t.Errorf("log holds %q", c)
		}
	}
}
