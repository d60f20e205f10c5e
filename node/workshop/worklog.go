package workshop

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Work is one entry of a worker's work record: time spent on one step of
// one device. The worker is a person: the records are private to the
// coop, read only by the admin and the worker, audited, never federated.
type Work struct {
	ID       string    `json:"id"`
	Worker   string    `json:"worker"` // username
	Terminal string    `json:"terminal"`
	Step     string    `json:"step"`
	Minutes  int       `json:"minutes"`
	Date     string    `json:"date"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// WorkEntry is the request to log work: minutes or hours, not both.
type WorkEntry struct {
	Terminal string   `json:"terminal"`
	Step     string   `json:"step"`
	Minutes  *int     `json:"minutes,omitempty"`
	Hours    *float64 `json:"hours,omitempty"`
	Date     string   `json:"date"`
	Note     string   `json:"note,omitempty"`
}

// MaxMinutes is the most one entry may hold: a long working day.
const MaxMinutes = 12 * 60

// LogWork records work by the actor.
func (s *Service) LogWork(ctx context.Context, a auth.Actor, e WorkEntry) (Work, error) {
	if err := s.allow(ctx, a, "worklog", "", "create", workers...); err != nil {
		return Work{}, err
	}
	defer s.changed(ctx)
	bad := map[string]string{}
	mins := 0
	switch {
	case e.Minutes != nil && e.Hours != nil:
		bad["minutes"] = "minutes_or_hours"
	case e.Minutes != nil:
		mins = *e.Minutes
	case e.Hours != nil && !math.IsNaN(*e.Hours) && math.Abs(*e.Hours) < 1000:
		mins = int(math.Round(*e.Hours * 60))
	default:
		bad["minutes"] = "required"
	}
	if _, ok := bad["minutes"]; !ok && (mins < 1 || mins > MaxMinutes) {
		bad["minutes"] = "out_of_range"
	}
	if !slices.Contains(States, e.Step) {
		bad["step"] = "bad_choice"
	}
	if c := checkDate(e.Date, s.clk.Now()); c != "" {
		bad["date"] = c
	}
	if c := schema.TextFault(e.Note, 1000, true); c != "" {
		bad["note"] = c
	}
	if strings.TrimSpace(e.Terminal) == "" {
		bad["terminal"] = "required"
	}
	if err := problem.Invalid(bad); err != nil {
		return Work{}, err
	}
	if _, err := s.reg.Terminal(ctx, a, e.Terminal); err != nil {
		if problem.As(err).Status == http.StatusNotFound {
			return Work{}, problem.Invalid(map[string]string{"terminal": "unknown_terminal"})
		}
		return Work{}, err
	}
	w := Work{ID: strings.ToLower(rand.Text()), Worker: a.Username, Terminal: e.Terminal, Step: e.Step, Minutes: mins,
		Date: e.Date, Note: strings.TrimSpace(e.Note), At: s.clk.Now().UTC()}
	if err := s.work.Put(ctx, w); err != nil {
		return Work{}, fmt.Errorf("store work: %w", err)
	}
	return w, s.record(ctx, a, audit.Create, "worklog", w.ID, "")
}

// WorkOn lists the work logged on a terminal, oldest first: the admin
// sees everyone's, a worker their own.
func (s *Service) WorkOn(ctx context.Context, a auth.Actor, terminal string) ([]Work, error) {
	if err := s.allow(ctx, a, "worklog", terminal, "list", workers...); err != nil {
		return nil, err
	}
	ws := s.work.Filter(func(w *Work) bool {
		return w.Terminal == terminal && (a.Role == auth.Admin || w.Worker == a.Username)
	})
	slices.SortFunc(ws, func(x, y Work) int { return x.At.Compare(y.At) })
	_ = s.record(ctx, a, audit.List, "worklog", terminal, "")
	return ws, nil
}

// Summary is what one worker did: the basis of their certificate.
type Summary struct {
	Worker  string         `json:"worker"`
	Minutes int            `json:"minutes"`
	Hours   float64        `json:"hours"`
	Devices int            `json:"devices"`
	From    string         `json:"from,omitempty"` // first day worked
	To      string         `json:"to,omitempty"`   // last day worked
	ByStep  []StepSummary  `json:"by_step"`
	Steps   map[string]int `json:"steps_done"` // steps completed, by the state a forward move left
}

// StepSummary is the time a worker spent on one step (a step they
// completed without logging time is listed with none).
type StepSummary struct {
	Step    string  `json:"step"`
	Minutes int     `json:"minutes"`
	Hours   float64 `json:"hours"`
}

func hours(m int) float64 { return math.Round(float64(m)/60*10) / 10 }

// Workers summarises every worker's record (admin), or the actor's own
// (a refurbisher); the read is audited.
func (s *Service) Workers(ctx context.Context, a auth.Actor) ([]Summary, error) {
	if err := s.allow(ctx, a, "worklog", "", "list", workers...); err != nil {
		return nil, err
	}
	by := map[string]*Summary{}
	devs := map[string]map[string]bool{}
	get := func(w string) *Summary {
		if by[w] == nil {
			by[w] = &Summary{Worker: w, ByStep: []StepSummary{}, Steps: map[string]int{}}
			devs[w] = map[string]bool{}
		}
		return by[w]
	}
	mine := func(w string) bool { return a.Role == auth.Admin || w == a.Username }
	stepMins := map[string]map[string]int{}
	for _, w := range s.work.Filter(func(w *Work) bool { return mine(w.Worker) }) {
		sm := get(w.Worker)
		sm.Minutes += w.Minutes
		devs[w.Worker][w.Terminal] = true
		if sm.From == "" || w.Date < sm.From {
			sm.From = w.Date
		}
		if w.Date > sm.To {
			sm.To = w.Date
		}
		if stepMins[w.Worker] == nil {
			stepMins[w.Worker] = map[string]int{}
		}
		stepMins[w.Worker][w.Step] += w.Minutes
	}
	for _, d := range s.devices.Filter(func(*Device) bool { return true }) {
		for _, st := range d.Steps {
			// A step done is the state a forward move leaves: the move
			// wiping → installing records a wipe.
			if mine(st.By) && !strings.HasPrefix(st.By, "system:") && !backStep(st.From, st.To) {
				get(st.By).Steps[st.From]++
				devs[st.By][d.Terminal] = true
			}
		}
	}
	out := make([]Summary, 0, len(by))
	for w, sm := range by {
		sm.Hours, sm.Devices = hours(sm.Minutes), len(devs[w])
		for _, st := range States {
			if m := stepMins[w][st]; m > 0 || sm.Steps[st] > 0 {
				sm.ByStep = append(sm.ByStep, StepSummary{Step: st, Minutes: m, Hours: hours(m)})
			}
		}
		out = append(out, *sm)
	}
	slices.SortFunc(out, func(x, y Summary) int { return strings.Compare(x.Worker, y.Worker) })
	_ = s.record(ctx, a, audit.List, "worklog", "", "workers")
	return out, nil
}

// Worker is one worker's summary (an empty one for a worker with no
// record yet).
func (s *Service) Worker(ctx context.Context, a auth.Actor, username string) (Summary, error) {
	if a.Role != auth.Admin && a.Username != username {
		return Summary{}, s.allow(ctx, a, "worklog", username, "read")
	}
	all, err := s.Workers(ctx, a)
	if err != nil {
		return Summary{}, err
	}
	for _, sm := range all {
		if sm.Worker == username {
			return sm, nil
		}
	}
	return Summary{Worker: username, ByStep: []StepSummary{}, Steps: map[string]int{}}, nil
}

// KgPerDevice is the assumed weight of a device kept out of e-waste: a
// 2010–2016 laptop weighs 2 to 3 kg, a desktop with its screen more; 2.5
// kg is the figure the coop's stats state.
const KgPerDevice = 2.5

// Stats are the coop's figures for itself and the authority.
type Stats struct {
	Recovered     int     `json:"recovered"`      // devices taken in, ever
	Delivered     int     `json:"delivered"`      // devices delivered at least once
	InService     int     `json:"in_service"`     // in service now
	Retired       int     `json:"retired"`        // retired or recycled
	KgAvoided     float64 `json:"kg_avoided"`     // delivered × KgPerDevice
	KgPerDevice   float64 `json:"kg_per_device"`  // the assumption
	HoursOfWork   float64 `json:"hours_of_work"`  // logged by every worker
	WorkMinutes   int     `json:"work_minutes"`   // the same in minutes
	Workers       int     `json:"workers"`        // people who logged work
	WorkEntries   int     `json:"work_entries"`   // entries logged
	WaitingDevice int     `json:"waiting_device"` // in the workshop now
}

// Stats computes the coop's figures (admin only).
func (s *Service) Stats(ctx context.Context, a auth.Actor) (Stats, error) {
	if err := s.allow(ctx, a, "workshop_stats", "", "read", auth.Admin); err != nil {
		return Stats{}, err
	}
	st, err := s.figures(ctx, a)
	if err != nil {
		return Stats{}, err
	}
	_ = s.record(ctx, a, audit.Read, "workshop_stats", "", "")
	return st, nil
}

// figures counts the devices and the work, as a reads the registry.
func (s *Service) figures(ctx context.Context, a auth.Actor) (Stats, error) {
	ts, err := s.reg.Terminals(ctx, a)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{KgPerDevice: KgPerDevice}
	for _, t := range ts {
		st.Recovered++
		if slices.ContainsFunc(t.History, func(h StateStep) bool { return h.State == "delivered" || h.State == "in_service" }) {
			st.Delivered++
		}
		switch {
		case t.State == "in_service":
			st.InService++
		case Final(t.State):
			st.Retired++
		case slices.Contains(WorkStates, t.State):
			st.WaitingDevice++
		}
	}
	ppl := map[string]bool{}
	mins := 0
	for _, w := range s.work.Filter(func(*Work) bool { return true }) {
		mins += w.Minutes
		ppl[w.Worker] = true
		st.WorkEntries++
	}
	st.HoursOfWork, st.WorkMinutes, st.Workers = hours(mins), mins, len(ppl)
	st.KgAvoided = float64(st.Delivered) * KgPerDevice
	return st, nil
}
