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
	r := newTerminalRig(t, ctx, "10:00", 3*time.Hour)
	fc, t0, rome, carla, other, ben := r.fc, r.t0, r.rome, r.carla, r.other, r.ben
	sys := agentSys(t)
	if err := os.Remove(filepath.Join(sys, "class/rtc/rtc0/wakealarm")); err != nil {
		t.Fatal(err)
	}
	a := r.agent(sys)
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
	adm := login(t, r.n, "admin", "admin-password-1")
	if code, body := adm.get("/terminals"); code != http.StatusOK || !strings.Contains(body, "Stato del PC") || !strings.Contains(body, noRTC) || !strings.Contains(body, seen) {
		t.Fatalf("admin's terminals %d:\n%s", code, body)
	}
}
