package node_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/notify"
)

// TestAlertMailsSpeakTheirReadersLanguage: the e-mails of an alert are in
// the link's language (Italian by default, English when the coop chose
// it), carry the coop's label and never the person's name, and link to
// the case: the page behind the contact's own token shows what, how
// urgent and since when, and the person's name only once the contact
// pressed the button; the coop's own people also get the case in the app.
func TestAlertMailsSpeakTheirReadersLanguage(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "admin-password-1", Escalation: node.EscalationConfig{CoopPhone: "+39 02 0000"}})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	ctx := context.Background()
	adm := login(t, n, "admin", "admin-password-1")
	var cg, ben struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/caregivers", map[string]any{"name": "Carla Bianchi", "languages": []string{"it"}}, &cg)
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "carla", "role": "caregiver", "caregiver_id": cg.ID, "password": "carla-password-1"}, nil)
	adm.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{
		"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272", "caregivers": []string{cg.ID},
		"consent": map[string]any{"given": true, "date": "2026-01-10"}}, &ben)
	adm.call(http.StatusBadRequest, "PUT", "/api/v1/escalation/settings/"+ben.ID, map[string]any{"chain": []map[string]string{
		{"kind": "family", "name": "Luca", "channel": "email", "to": "luca@example.org", "lang": "fr"}}}, nil)
	carla := login(t, n, "carla", "carla-password-1")
	// firstMail sets the chain to one link, reports a problem asking for
	// action after a call and returns the mail it sent and the case.
	calls := 0
	firstMail := func(action string, l map[string]string) (notify.Delivery, string) {
		t.Helper()
		adm.call(http.StatusOK, "PUT", "/api/v1/escalation/settings/"+ben.ID, map[string]any{"label": "M.R", "chain": []map[string]string{l}}, nil)
		calls++
		call := "call-" + string(rune('0'+calls))
		if err := n.Escalation().Record(ctx, escalation.Event{Type: escalation.CallAnswered, Beneficiary: ben.ID, Caregiver: cg.ID, Call: call}); err != nil {
			t.Fatal(err)
		}
		var o escalation.Outcome
		carla.call(http.StatusCreated, "POST", "/api/v1/outcomes", map[string]any{"key": call, "beneficiary": ben.ID, "call": call,
			"status": "problem", "kind": "health", "urgency": "high", "actions": []string{action}}, &o)
		ds, err := n.Notify().Deliveries(sysAdmin, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Channel == "email" && d.To == l["to"] && d.Data["case"] == o.Case {
				return d, o.Case
			}
		}
		t.Fatalf("no mail to %s: %+v", l["to"], ds)
		return notify.Delivery{}, ""
	}
	it, _ := firstMail("alert_family", map[string]string{"kind": "family", "name": "Luca", "channel": "email", "to": "luca@example.org"})
	en, _ := firstMail("alert_family", map[string]string{"kind": "family", "name": "John", "channel": "email", "to": "john@example.org", "lang": "en"})
	for _, tc := range []struct {
		m    notify.Delivery
		want []string
	}{
		{it, []string{"Difronte: problema segnalato: Salute (urgenza Alta)", "Per: M.R.", "Richiamate la cooperativa al numero +39 02 0000",
			"Vedete il caso e confermate di aver ricevuto l'avviso: http", "/escalation/ack/"}},
		{en, []string{"a problem was reported: Health", "For: M.R.", "See the case and confirm you received the alert: http", "/escalation/ack/"}},
	} {
		text := tc.m.Subject + "\n" + tc.m.Body
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("mail to %s lacks %q:\n%s", tc.m.To, w, text)
			}
		}
		if strings.Contains(text, "Maria") || strings.Contains(text, "Rossi") || strings.Contains(text, "⟦") || strings.Contains(text, "/cases/") {
			t.Errorf("mail to %s names the person, the app's case or a missing key:\n%s", tc.m.To, text)
		}
	}
	if strings.Contains(it.Body, "See the case") || strings.Contains(en.Body, "Vedete") {
		t.Error("a mail mixes the languages")
	}
	// The coop's own people also get the case in the app.
	office, caseID := firstMail("alert_caregivers", map[string]string{"kind": "caregiver", "name": "Ufficio", "channel": "email", "to": "ufficio@example.org"})
	if !strings.Contains(office.Body, "/cases/"+caseID) || !strings.Contains(office.Body, "/escalation/ack/") {
		t.Errorf("the coop's mail lacks the case in the app:\n%s", office.Body)
	}

	// The family's link: the case in words, no name; the name after the
	// button; the same link again says it was confirmed.
	at := func(d notify.Delivery) string {
		u, err := url.Parse(d.AckURL)
		if err != nil {
			t.Fatal(err)
		}
		return n.URL() + u.Path
	}
	link := at(it)
	code, body := page(t, "GET", link, "it")
	if code != 200 || !strings.Contains(body, "problema segnalato: Salute") || !strings.Contains(body, "Riguarda M.R") ||
		!strings.Contains(body, "Alta") || strings.Contains(body, "Maria") || !strings.Contains(body, `href="tel:`) {
		t.Fatalf("ack page %d:\n%s", code, body)
	}
	if code, body = page(t, "GET", at(en), "en"); code != 200 || !strings.Contains(body, "a problem was reported: Health") || !strings.Contains(body, "High") {
		t.Fatalf("ack page in English %d:\n%s", code, body)
	}
	code, body = page(t, "POST", link, "it")
	if code != 200 || !strings.Contains(body, "Riguarda Maria Rossi") || !strings.Contains(body, "avviso è confermato") {
		t.Fatalf("after the button %d:\n%s", code, body)
	}
	if code, body = page(t, "GET", link, "it"); code != 200 || !strings.Contains(body, "già stato confermato") || strings.Contains(body, `action="/escalation/ack/`) {
		t.Fatalf("the link after the acknowledgement %d:\n%s", code, body)
	}
	if code, _ = page(t, "GET", n.URL()+"/escalation/ack/not-a-token", "it"); code != http.StatusNotFound {
		t.Fatalf("unknown token: %d", code)
	}
}

// page fetches a page as a browser in lang would, without a session.
func page(t *testing.T, method, u, lang string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(url.Values{}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
