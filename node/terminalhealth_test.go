package node_test

import (
	"context"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/terminal"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
)

// TestTerminalHealthOnCaregiverPages: a PC without an RTC wake alarm runs
// the agent; its caregiver's home, agenda and the person's page say "Questo
// PC non può accendersi da solo" and when it was last seen; the admin's
// list of terminals has the same line; another caregiver's home has none
// of it.
func TestTerminalHealthOnCaregiverPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	t0 := time.Now().UTC().Truncate(time.Minute)
	fc := fakeclock.New(t0)
	n := start(t, node.Config{AdminPassword: "admin-password-1", Clock: fc})
	defer n.Close()
	cg, carla := caregiverLogin(t, n, "carla", "Carla Bianchi")
	_, other := caregiverLogin(t, n, "bruno", "Bruno Verdi")
	ben, err := n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272", Caregivers: []string{cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation(calls.Zone)
	slot := t0.Add(3 * time.Hour)
	if _, err := n.Calls().SaveSchedule(ctx, sysAdmin, calls.Schedule{Beneficiary: ben.ID, Caregiver: cg.ID, Time: "10:00",
		Start: t0.In(rome).Format("2006-01-02"), Minutes: 15, Extra: []string{slot.In(rome).Format("2006-01-02T15:04")}}); err != nil {
		t.Fatal(err)
	}
	_, cred := pairedTerminal(t, ctx, n, ben.ID)
	sys := agentSys(t)
	if err := os.Remove(filepath.Join(sys, "class/rtc/rtc0/wakealarm")); err != nil {
		t.Fatal(err)
	}
	a := terminal.New(terminal.Config{Node: n.URL(), Credential: cred, Clock: fc, RTC: terminal.RTC{Sys: sys}, Sys: sys, DiskPath: sys})
	a.Step(ctx)
	fc.Advance(30 * time.Minute) // no longer online by heartbeat
	seen := html.EscapeString("PC visto l'ultima volta il " + t0.In(rome).Format("02/01/2006 15:04"))
	const noRTC = "Questo PC non può accendersi da solo"
	for _, path := range []string{"/", "/agenda", "/beneficiaries/" + ben.ID} {
		code, body := carla.get(path)
		if code != http.StatusOK || !strings.Contains(body, noRTC) || !strings.Contains(body, "Batteria quasi scarica") {
			t.Fatalf("caregiver's %s: %d, no health warning:\n%s", path, code, body)
		}
		if path != "/agenda" && !strings.Contains(body, seen) {
			t.Fatalf("caregiver's %s does not say %q:\n%s", path, seen, body)
		}
	}
	if _, body := other.get("/"); strings.Contains(body, noRTC) || strings.Contains(body, "Maria Rossi") {
		t.Fatalf("another caregiver's home shows the terminal:\n%s", body)
	}
	adm := login(t, n, "admin", "admin-password-1")
	if code, body := adm.get("/terminals"); code != http.StatusOK || !strings.Contains(body, "Stato del PC") || !strings.Contains(body, noRTC) || !strings.Contains(body, seen) {
		t.Fatalf("admin's terminals %d:\n%s", code, body)
	}
}
