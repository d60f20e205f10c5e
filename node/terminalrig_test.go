package node_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/terminal"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
)

// terminalRig is the setup the terminal tests share: a node on a fake
// clock; Carla Bianchi, the caregiver of Maria Rossi, and Bruno Verdi, who
// is not; Carla's calls to Maria on a schedule; Maria's terminal paired,
// as `difronte terminal setup --pair-code` does.
type terminalRig struct {
	n            *node.Node
	fc           *fakeclock.Clock
	t0           time.Time // the fake clock's start, on the minute
	rome         *time.Location
	cg, otherCg  care.Caregiver
	carla, other *client
	ben          care.Beneficiary
	term         care.Terminal
	cred         string // the terminal's device credential
}

// newTerminalRig starts the rig; the schedule's weekly time is at (as
// "15:04", Rome time; "" = the time of the first extra call) and it adds
// one call at each of extra after t0. The node closes when the test ends.
func newTerminalRig(t *testing.T, ctx context.Context, at string, extra ...time.Duration) *terminalRig {
	t.Helper()
	r := &terminalRig{t0: time.Now().UTC().Truncate(time.Minute)}
	r.fc = fakeclock.New(r.t0)
	r.n = start(t, node.Config{AdminPassword: "admin-password-1", Clock: r.fc})
	t.Cleanup(func() { r.n.Close() })
	r.cg, r.carla = caregiverLogin(t, r.n, "carla", "Carla Bianchi")
	r.otherCg, r.other = caregiverLogin(t, r.n, "bruno", "Bruno Verdi")
	var err error
	r.ben, err = r.n.Care().CreateBeneficiary(ctx, sysAdmin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272", Caregivers: []string{r.cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	r.rome, _ = time.LoadLocation(calls.Zone)
	s := calls.Schedule{Beneficiary: r.ben.ID, Caregiver: r.cg.ID, Time: at, Start: r.t0.In(r.rome).Format("2006-01-02"), Minutes: 15}
	if at == "" {
		s.Time = r.t0.Add(extra[0]).In(r.rome).Format("15:04")
	}
	for _, d := range extra {
		s.Extra = append(s.Extra, r.t0.Add(d).In(r.rome).Format("2006-01-02T15:04"))
	}
	if _, err := r.n.Calls().SaveSchedule(ctx, sysAdmin, s); err != nil {
		t.Fatal(err)
	}
	r.term, r.cred = pairedTerminal(t, ctx, r.n, r.ben.ID)
	return r
}

// agent is the terminal's agent over sys (agentSys) on the rig's clock.
func (r *terminalRig) agent(sys string) *terminal.Agent {
	return terminal.New(terminal.Config{Node: r.n.URL(), Credential: r.cred, Clock: r.fc, RTC: terminal.RTC{Sys: sys}, Sys: sys, DiskPath: sys})
}

// agentSys is a sysfs tree with a wake alarm and a worn battery.
func agentSys(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	for p, c := range map[string]string{
		"class/rtc/rtc0/wakealarm":                   "",
		"class/power_supply/BAT0/capacity":           "15",
		"class/power_supply/BAT0/energy_full":        "10",
		"class/power_supply/BAT0/energy_full_design": "40",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(sys, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// pairedTerminal makes a terminal assigned to ben and redeems a pairing
// code for it, as `difronte terminal setup --pair-code` does.
func pairedTerminal(t *testing.T, ctx context.Context, n *node.Node, ben string) (care.Terminal, string) {
	t.Helper()
	term, err := n.Care().CreateTerminal(ctx, sysAdmin, care.Terminal{Label: "T-7", Model: "ThinkPad X220", State: "in_service", Beneficiary: ben})
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Calls().StartPairing(ctx, sysAdmin, term.ID, n.URL())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := terminal.Pair(ctx, http.DefaultClient, n.URL(), p.Code)
	if err != nil {
		t.Fatal(err)
	}
	return term, cred
}
