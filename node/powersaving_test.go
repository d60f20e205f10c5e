package node_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/terminal"
	"github.com/difronte/difronte/node/fleet"
)

// TestPowerSavingFromNode: the coop's admin turns power saving on for all
// its terminals through the API; an agent set up without it reads the
// setting with its windows, stays on through the window and powers the PC
// off once, at the window's end plus the coop's grace, with the alarm set
// for the next day's window; turned off again, the agent stops. A
// caregiver may not change it; the person's caregiver reads the person's
// terminals' health, another caregiver may not.
func TestPowerSavingFromNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	// Two calls, two hours on and a day later, at the same time of day.
	r := newTerminalRig(t, ctx, "", 2*time.Hour, 26*time.Hour)
	n, fc, carla, other, ben, term := r.n, r.fc, r.carla, r.other, r.ben, r.term
	slot := r.t0.Add(2 * time.Hour)

	adm := login(t, n, "admin", "admin-password-1")
	var ps fleet.PowerSaving
	adm.call(http.StatusOK, "GET", "/api/v1/fleet/power-saving", nil, &ps)
	if ps.On || ps.GraceMinutes != fleet.DefaultGraceMinutes {
		t.Fatalf("default setting %+v", ps)
	}
	adm.call(http.StatusBadRequest, "PUT", "/api/v1/fleet/power-saving", map[string]any{"on": true, "grace_minutes": 1}, nil)
	carla.call(http.StatusForbidden, "PUT", "/api/v1/fleet/power-saving", map[string]any{"on": true, "grace_minutes": 10}, nil)
	adm.call(http.StatusOK, "PUT", "/api/v1/fleet/power-saving", map[string]any{"on": true, "grace_minutes": 10}, &ps)
	if !ps.On || ps.GraceMinutes != 10 || !ps.UpdatedAt.Equal(r.t0) {
		t.Fatalf("saved setting %+v", ps)
	}

	sys := agentSys(t)
	var offs []time.Time
	a := terminal.New(terminal.Config{Node: n.URL(), Credential: r.cred, Clock: fc, RTC: terminal.RTC{Sys: sys}, Sys: sys, DiskPath: sys,
		PowerOff: func(context.Context) error { offs = append(offs, fc.Now()); return nil }})
	for i := 0; i < 3*60; i++ {
		a.Step(ctx)
		if len(offs) > 0 && offs[len(offs)-1].Equal(fc.Now()) && a.InWindow(fc.Now()) {
			t.Fatalf("powered off inside a window at %s", fc.Now())
		}
		fc.Advance(time.Minute)
	}
	if a.PowerOffAfter() != 10*time.Minute {
		t.Fatalf("agent's grace %s, want the coop's 10m", a.PowerOffAfter())
	}
	if want := slot.Add(25 * time.Minute); len(offs) != 1 || !offs[0].Equal(want) {
		t.Fatalf("powered off at %v, want once at %s", offs, want)
	}
	if want := slot.Add(24*time.Hour - 10*time.Minute); !a.Alarm().Equal(want) {
		t.Fatalf("alarm %s, want %s", a.Alarm(), want)
	}

	// The person's caregiver sees the terminal's health; another does not.
	var ph struct{ Terminals []fleet.Health }
	carla.call(http.StatusOK, "GET", "/api/v1/beneficiaries/"+ben.ID+"/terminal-health", nil, &ph)
	if len(ph.Terminals) != 1 || ph.Terminals[0].Terminal != term.ID || ph.Terminals[0].NextWake == nil || !ph.Terminals[0].Agent {
		t.Fatalf("person's terminal health %+v", ph)
	}
	other.call(http.StatusForbidden, "GET", "/api/v1/beneficiaries/"+ben.ID+"/terminal-health", nil, nil)

	// Off again, from the admin's page: the agent keeps the PC on after
	// the next window.
	if code, body := adm.get("/terminal/power-saving"); code != http.StatusOK || !strings.Contains(body, `id="on" name="on" value="1" checked`) || !strings.Contains(body, `value="10"`) {
		t.Fatalf("power-saving page %d:\n%s", code, body)
	}
	if code, _, body := adm.postForm("/terminal/power-saving", url.Values{"grace_minutes": {"1"}}); code != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) {
		t.Fatalf("grace of 1 minute from the page: %d\n%s", code, body)
	}
	if code, _ := carla.get("/terminal/power-saving"); code != http.StatusForbidden {
		t.Fatalf("caregiver on the power-saving page: %d", code)
	}
	if code, loc, _ := adm.postForm("/terminal/power-saving", url.Values{"grace_minutes": {"10"}}); code != http.StatusSeeOther || loc != "/terminal/power-saving" {
		t.Fatalf("saving from the page: %d %q", code, loc)
	}
	adm.call(http.StatusOK, "GET", "/api/v1/fleet/power-saving", nil, &ps)
	if ps.On || ps.GraceMinutes != 10 {
		t.Fatalf("setting after the page's save %+v", ps)
	}
	fc.Advance(24*time.Hour - 3*time.Hour)
	for i := 0; i < 3*60; i++ {
		a.Step(ctx)
		fc.Advance(time.Minute)
	}
	if a.PowerOffAfter() != 0 || len(offs) != 1 {
		t.Fatalf("power saving off: grace %s, powered off at %v", a.PowerOffAfter(), offs)
	}
}
