package node_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/terminal"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/fleet"
)

// TestTerminalAgentOnRealNode: the agent against a real node with a fake
// clock: it gets the windows and programs the alarm, its heartbeat shows
// as health to the admin and the person's caregiver (not another one); a
// PC that does not come on for its window opens a missed check-in
// "terminal_not_on"; a revoked terminal clears its alarm.
func TestTerminalAgentOnRealNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	r := newTerminalRig(t, ctx, "10:00", 2*time.Hour)
	n, fc, t0, carla, other, term := r.n, r.fc, r.t0, r.carla, r.other, r.term
	slot := t0.Add(2 * time.Hour)
	sys := agentSys(t)
	a := r.agent(sys)
	a.Step(ctx)
	if want := slot.Add(-10 * time.Minute); !a.Alarm().Equal(want) || a.Beats() != 1 {
		t.Fatalf("alarm %s (want %s), %d heartbeats", a.Alarm(), want, a.Beats())
	}

	adm := login(t, n, "admin", "admin-password-1")
	var h fleet.Health
	adm.call(http.StatusOK, "GET", "/api/v1/terminals/"+term.ID+"/health", nil, &h)
	if !h.Online || !h.Agent || h.NextWake == nil || !h.NextWake.Equal(slot.Add(-10*time.Minute)) || h.NextWindow == nil || !h.NextWindow.Equal(slot) {
		t.Fatalf("health %+v", h)
	}
	if len(h.Warnings) != 2 || h.Warnings[0] != "battery_low" || h.Warnings[1] != "battery_worn" {
		t.Fatalf("warnings %v, want battery_low and battery_worn", h.Warnings)
	}
	// The terminal's page shows it; the kit page gives the command.
	if code, body := adm.get("/terminals/" + term.ID); code != http.StatusOK || !strings.Contains(body, "Stato del terminale") ||
		!strings.Contains(body, "Batteria consumata: va sostituita") || !strings.Contains(body, "sì, in linea") {
		t.Fatalf("terminal page %d:\n%s", code, body)
	}
	if code, body := adm.get("/terminal/install"); code != http.StatusOK || !strings.Contains(body, "wget -qO- "+n.URL()+"/terminal/install.sh | sudo sh -s --") {
		t.Fatalf("install page %d:\n%s", code, body)
	}
	if code, _ := carla.get("/terminal/install"); code != http.StatusForbidden {
		t.Fatalf("caregiver on the install page: %d", code)
	}
	carla.call(http.StatusOK, "GET", "/api/v1/terminals/"+term.ID+"/health", nil, &h)
	other.call(http.StatusForbidden, "GET", "/api/v1/terminals/"+term.ID+"/health", nil, nil)
	adm.call(http.StatusUnauthorized, "POST", "/api/v1/terminal/heartbeat", map[string]any{"at": t0}, nil)

	// The PC is switched off and its alarm fails: no heartbeat, no
	// browser at the window's time.
	fc.Advance(2*time.Hour + time.Minute)
	if err := n.Escalation().RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	var missed []escalation.Window
	for _, w := range n.Escalation().Windows(t0, t0.Add(24*time.Hour)) {
		if w.State == escalation.WindowMissed {
			missed = append(missed, w)
		}
	}
	if len(missed) != 1 || missed[0].How != escalation.MissNotOn {
		t.Fatalf("missed windows %+v, want one terminal_not_on", missed)
	}
	adm.call(http.StatusOK, "GET", "/api/v1/terminals/"+term.ID+"/health", nil, &h)
	if h.Online {
		t.Fatalf("terminal silent for two hours shows online: %+v", h)
	}

	// Revoked: the next step clears the alarm.
	devs, err := n.Calls().Devices(ctx, sysAdmin, term.ID)
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices %v %v", devs, err)
	}
	if err := n.Calls().RevokeDevice(ctx, sysAdmin, devs[0].ID); err != nil {
		t.Fatal(err)
	}
	a.Step(ctx)
	if !a.Alarm().IsZero() {
		t.Fatalf("revoked terminal keeps its alarm %s", a.Alarm())
	}
}

// TestTerminalHeartbeatsAfterNodeRestart: the node stops and starts again
// on the same address and data; the agent's heartbeats resume and the
// health read after the restart is the new one.
func TestTerminalHeartbeatsAfterNodeRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	dir := t.TempDir()
	t0 := time.Now().UTC().Truncate(time.Minute)
	fc := fakeclock.New(t0)
	n := start(t, node.Config{DataDir: dir, AdminPassword: "admin-password-1", Clock: fc})
	addr := n.URL()
	ben, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272"})
	if err != nil {
		t.Fatal(err)
	}
	term, cred := pairedTerminal(t, ctx, n, ben.ID)
	sys := agentSys(t)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	a := terminal.New(terminal.Config{Node: addr, Credential: cred, Clock: fc, RTC: terminal.RTC{Sys: sys}, Sys: sys, DiskPath: sys, HTTP: hc})
	a.Step(ctx)
	if a.Beats() != 1 {
		t.Fatal("no first heartbeat")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Minute)
	if wait := a.Step(ctx); wait > 5*time.Second || a.Beats() != 1 {
		t.Fatalf("node down: wait %s, %d heartbeats", wait, a.Beats())
	}
	ln, err := net.Listen("tcp", addr[len("http://"):])
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	n2, err := node.New(node.Config{DataDir: dir, AdminPassword: "admin-password-1", Clock: fc, Argon: cheap, NoFederation: true, HTTPListener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if err := n2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	fc.Advance(time.Minute)
	a.Step(ctx)
	if a.Beats() != 2 {
		t.Fatalf("%d heartbeats after the restart, want 2", a.Beats())
	}
	h, err := n2.Fleet().Health(ctx, sysAdmin, term.ID)
	if err != nil || h.LastSeen == nil || !h.LastSeen.Equal(fc.Now().UTC()) {
		t.Fatalf("health after restart %+v %v", h, err)
	}
}
