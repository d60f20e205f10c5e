package webui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/fleet"
	"github.com/difronte/difronte/node/problem"
)

// The coop's power-saving setting as a form (admin): the same setting as
// PUT /api/v1/fleet/power-saving, read by every terminal's agent.

type powerView struct {
	On         bool
	Grace      string
	Error      string // the grace field's error, translated
	Min, Max   int
	UpdatedAt  string
	Configured bool
}

func (u *ui) powerRoutes() {
	u.s.Router.HandleFunc("/terminal/power-saving", u.gate(u.powerPage, auth.Admin)).Methods(http.MethodGet)
	u.s.Router.HandleFunc("/terminal/power-saving", u.gate(u.powerPost, auth.Admin)).Methods(http.MethodPost)
}

func (u *ui) powerPage(w http.ResponseWriter, r *http.Request) {
	if u.d.Fleet == nil {
		http.NotFound(w, r)
		return
	}
	ps, err := u.d.Fleet.ReadPowerSaving(ctx(r), actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	_, set := u.d.Fleet.PowerSaving()
	p := u.newPage(w, r, "kit2.power_title")
	v := powerView{On: ps.On, Grace: strconv.Itoa(ps.GraceMinutes), Min: fleet.MinGraceMinutes, Max: fleet.MaxGraceMinutes, Configured: set}
	if set {
		v.UpdatedAt = p.When(ps.UpdatedAt)
	}
	p.Data = v
	u.render(w, r, p, "terminal_power", http.StatusOK)
}

func (u *ui) powerPost(w http.ResponseWriter, r *http.Request) {
	if u.d.Fleet == nil {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.Invalid(map[string]string{"form": "invalid"}))
		return
	}
	on := r.PostForm.Get("on") == "1"
	raw := strings.TrimSpace(r.PostForm.Get("grace_minutes"))
	grace, err := strconv.Atoi(raw)
	if err != nil {
		grace = -1
	}
	_, err = u.d.Fleet.SetPowerSaving(ctx(r), actor(r), fleet.PowerSaving{On: on, GraceMinutes: grace})
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Status == http.StatusBadRequest {
		p := u.newPage(w, r, "kit2.power_title")
		p.Data = powerView{On: on, Grace: raw, Min: fleet.MinGraceMinutes, Max: fleet.MaxGraceMinutes,
			Error: p.T("kit2.power_grace_range", "Min", fleet.MinGraceMinutes, "Max", fleet.MaxGraceMinutes)}
		u.render(w, r, p, "terminal_power", http.StatusBadRequest)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/terminal/power-saving", "flash.power_saved")
}
