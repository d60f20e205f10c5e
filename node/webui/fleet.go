package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/fleet"
)

// The terminal kit's page (/terminal/install: the one command a worker
// pastes on the refurbished PC) and the health block of a terminal's page.

func (u *ui) fleetRoutes() {
	u.s.Router.HandleFunc("/terminal/install", u.gate(u.installPage, auth.Admin, auth.Refurbisher)).Methods(http.MethodGet)
	u.powerRoutes()
	u.refurbRoutes()
}

type installView struct {
	Command string
	Script  string
}

func (u *ui) installPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "kit.title")
	base := fleet.Base(r)
	p.Data = installView{Command: fleet.InstallCommand(base), Script: base + "/terminal/install.sh"}
	u.render(w, r, p, "terminal_install", http.StatusOK)
}

// healthView is a terminal's health as its page shows it, times in Rome.
type healthView struct {
	Online, Agent                            bool
	LastSeen, NextWake, NextWindow, LastCall string
	Battery, Disk                            string
	Warnings                                 []string
}

// terminalHealth is the health block of a terminal's page, for the admin
// and the person's caregivers (nil for anyone else, and without fleet).
func (u *ui) terminalHealth(r *http.Request, id string) *healthView {
	a := actor(r)
	if u.d.Fleet == nil || (a.Role != auth.Admin && a.Role != auth.Caregiver) {
		return nil
	}
	h, err := u.d.Fleet.Health(ctx(r), a, id)
	if err != nil {
		return nil
	}
	loc, _ := time.LoadLocation("Europe/Rome")
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("02/01/2006 15:04")
	}
	v := &healthView{Online: h.Online, Agent: h.Agent, LastSeen: at(h.LastSeen), NextWake: at(h.NextWake),
		NextWindow: at(h.NextWindow), LastCall: at(h.LastCall), Warnings: h.Warnings}
	if h.Battery != nil && h.Battery.Percent >= 0 {
		v.Battery = strconv.Itoa(h.Battery.Percent) + " %"
	}
	if h.Disk != nil {
		v.Disk = strconv.FormatFloat(h.Disk.FreePercent, 'f', 0, 64) + " %"
	}
	return v
}
