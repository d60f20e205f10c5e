package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// TestDashboardCountsAnsweredCall: a real call placed from the caregiver's
// socket and answered by the terminal, with no schedule agreed, is a
// contact made on the admin's dashboard; a call the terminal refuses is
// not.
func TestDashboardCountsAnsweredCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	n := start(t, node.Config{AdminPassword: "admin-password-1"})
	defer n.Close()
	cg, carla := caregiverLogin(t, n, "carla", "Carla Bianchi")
	ben, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272", Caregivers: []string{cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	adm := login(t, n, "admin", "admin-password-1")
	done := func() escalation.Dashboard {
		var d escalation.Dashboard
		adm.call(http.StatusOK, "GET", "/api/v1/escalation/dashboard", nil, &d)
		return d
	}
	if d := done(); d.Done != 0 {
		t.Fatalf("contacts before any call: %d", d.Done)
	}
	ts := pairTerminal(t, ctx, n, ben.ID)
	cs := dialSock(t, ctx, n, "/ws/calls", carla.token)
	cs.await(ctx, calls.TypeHello)
	ring(t, ctx, cs, ts, "refused-1", ben.ID, "", false)
	if d := done(); d.Done != 0 {
		t.Fatalf("a refused call counted as a contact: %d", d.Done)
	}
	ring(t, ctx, cs, ts, "answered-1", ben.ID, "", true)
	d := done()
	if d.Done != 1 || len(d.ByCaregiver) != 1 || d.ByCaregiver[0].Caregiver != cg.ID || d.ByCaregiver[0].Done != 1 {
		t.Fatalf("dashboard after an answered call: %+v", d)
	}
}

// TestAgendaSaysWhomToCallNow: an agreed call a few minutes ahead is under
// "Da chiamare adesso" with the terminal's state and the person's notes;
// once a call to her is answered it moves to "Fatte" and its button says
// "Richiama".
func TestAgendaSaysWhomToCallNow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	n := start(t, node.Config{AdminPassword: "admin-password-1"})
	defer n.Close()
	cg, carla := caregiverLogin(t, n, "carla", "Carla Bianchi")
	ben, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272",
		Caregivers: []string{cg.ID}, Notes: "Sente poco: parlare piano e forte.\nAltro."})
	if err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation(calls.Zone)
	at := time.Now().Add(5 * time.Minute).In(rome)
	if _, err := n.Calls().SaveSchedule(ctx, sysAdmin, calls.Schedule{Beneficiary: ben.ID, Caregiver: cg.ID, Time: at.Format("15:04"),
		Start: at.Format("2006-01-02"), Minutes: 15, Extra: []string{at.Format("2006-01-02T15:04")}}); err != nil {
		t.Fatal(err)
	}
	ts := pairTerminal(t, ctx, n, ben.ID)
	_, body := carla.get("/agenda")
	now, _, _ := strings.Cut(body, `class="section-next"`)
	if !strings.Contains(now, "Da chiamare adesso") || !strings.Contains(now, "Maria Rossi") || !strings.Contains(now, "terminale acceso") ||
		!strings.Contains(now, "Sente poco: parlare piano e forte.") || strings.Contains(now, "Altro.") {
		t.Fatalf("agenda does not put Maria under now with her terminal and notes:\n%s", body)
	}
	cs := dialSock(t, ctx, n, "/ws/calls", carla.token)
	cs.await(ctx, calls.TypeHello)
	ring(t, ctx, cs, ts, "answered-now", ben.ID, "", true)
	_, body = carla.get("/agenda")
	_, done, ok := strings.Cut(body, `class="section-done"`)
	if !ok || !strings.Contains(done, "Maria Rossi") || !strings.Contains(done, "Richiama") || strings.Contains(body, `class="section-now"`) {
		t.Fatalf("agenda after the answered call:\n%s", body)
	}
}
