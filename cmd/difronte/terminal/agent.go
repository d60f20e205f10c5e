package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/difronte/difronte/federation/clock"
)

// Window is one agreed call window of the terminal, as the node sends it.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Windows is the node's answer to GET /api/v1/terminal/windows.
type Windows struct {
	Terminal string   `json:"terminal"`
	Windows  []Window `json:"windows"`
	// Busy says the terminal is in a call right now.
	Busy bool `json:"busy"`
	// PowerSaving is the coop's setting, absent until its admin chose:
	// then the agent keeps its own --power-off-after.
	PowerSaving *PowerSaving `json:"power_saving,omitempty"`
}

// PowerSaving is the coop-wide power-saving setting the node sends.
type PowerSaving struct {
	On           bool `json:"on"`
	GraceMinutes int  `json:"grace_minutes"`
}

// offAfter is the grace the setting means (0: never power off).
func (p *PowerSaving) offAfter(local time.Duration) time.Duration {
	switch {
	case p == nil:
		return local
	case !p.On || p.GraceMinutes <= 0:
		return 0
	}
	return time.Duration(min(p.GraceMinutes, 24*60)) * time.Minute
}

// Heartbeat is what the agent posts to /api/v1/terminal/heartbeat.
type Heartbeat struct {
	At      time.Time  `json:"at"`
	AlarmAt *time.Time `json:"alarm_at,omitempty"`
	// RTC is false on a PC without a programmable wake alarm.
	RTC     bool          `json:"rtc"`
	Battery HealthBattery `json:"battery"`
	Disk    HealthDisk    `json:"disk"`
	Version string        `json:"version,omitempty"`
}

// HealthBattery is the battery's state (Percent -1: no battery).
type HealthBattery struct {
	Percent     int     `json:"percent"`
	WearPercent float64 `json:"wear_percent"`
}

// HealthDisk is the root file system's free space.
type HealthDisk struct {
	FreePercent float64 `json:"free_percent"`
}

// ErrRefused is the node refusing the device credential: the terminal was
// revoked or never paired.
var ErrRefused = errors.New("the node refused this terminal's credential")

// Config configures the agent; zero values are the defaults noted.
type Config struct {
	Node       string
	Credential string
	Lead       time.Duration // wake this long before a window (10 min)
	// PowerOffAfter is the grace after a window's end before the PC is
	// switched off; 0: the coop did not choose power saving, never off.
	// The coop's setting on the node, once its admin chose, replaces it.
	PowerOffAfter time.Duration
	Poll          time.Duration // how often the schedule is fetched (5 min)
	MaxBackoff    time.Duration // longest wait after a failure (5 min)
	RTC           RTC
	Sys           string // sysfs root, for the battery
	DiskPath      string // file system whose free space is reported ("/")
	PowerOff      func(context.Context) error
	Clock         clock.Clock
	HTTP          *http.Client
	Logger        *slog.Logger
	Version       string
}

// Agent is the terminal's service: it keeps the wake alarm ahead of the
// next window, reports its health and, with power saving, switches the PC
// off after a window.
type Agent struct {
	cfg      Config
	offAfter time.Duration // the grace in force: the node's or PowerOffAfter
	windows  []Window
	busy     bool
	revoked  bool
	alarm    time.Time // programmed wake time, zero: none
	attended map[int64]Window
	fails    int
	beats    int // heartbeats accepted, for tests and the log
}

// New returns an agent with cfg's defaults filled in.
func New(cfg Config) *Agent {
	if cfg.Lead <= 0 {
		cfg.Lead = 10 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Minute
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.DiskPath == "" {
		cfg.DiskPath = "/"
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Node = strings.TrimRight(cfg.Node, "/")
	return &Agent{cfg: cfg, offAfter: cfg.PowerOffAfter, attended: map[int64]Window{}}
}

// Run steps until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	for {
		d := a.Step(ctx)
		t := a.cfg.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// Step fetches the schedule, programs the alarm, reports the heartbeat and
// powers off when it is time; it returns how long to wait for the next step.
func (a *Agent) Step(ctx context.Context) time.Duration {
	now := a.cfg.Clock.Now()
	wait := a.cfg.Poll
	ws, err := a.fetch(ctx)
	switch {
	case errors.Is(err, ErrRefused):
		if !a.revoked {
			a.cfg.Logger.Warn("terminal revoked: wake alarm cleared", "component", "terminal")
		}
		a.revoked, a.windows, a.busy = true, nil, false
		clear(a.attended)
	case err != nil:
		a.fails++
		wait = min(time.Second<<min(a.fails, 20), a.cfg.MaxBackoff)
		a.cfg.Logger.Info("node not reached, keeping the last schedule", "component", "terminal", "fails", a.fails, "err", err)
	default:
		a.revoked, a.fails = false, 0
		a.windows, a.busy = ws.Windows, ws.Busy
		a.offAfter = ws.PowerSaving.offAfter(a.cfg.PowerOffAfter)
		slices.SortFunc(a.windows, func(x, y Window) int { return x.Start.Compare(y.Start) })
	}
	a.plan(now)
	if !a.revoked && err == nil {
		a.heartbeat(ctx, now)
	}
	if a.dueOff(now) {
		a.cfg.Logger.Info("window over: powering off", "component", "terminal", "alarm", a.alarm)
		clear(a.attended)
		if a.cfg.PowerOff != nil {
			if err := a.cfg.PowerOff(ctx); err != nil {
				a.cfg.Logger.Error("power off failed", "component", "terminal", "err", err)
			}
		}
	}
	// Wake up for the next edge that matters: a window's end + grace.
	for _, w := range a.windows {
		if e := w.End.Add(a.offAfter).Sub(now); a.offAfter > 0 && e > 0 && e < wait {
			wait = e
		}
	}
	return max(wait, time.Second)
}

// plan programs the alarm for the next window that starts more than the
// lead time from now, and remembers the windows the PC was on for.
func (a *Agent) plan(now time.Time) {
	var next time.Time
	for _, w := range a.windows {
		if !now.Before(w.Start.Add(-a.cfg.Lead)) && now.Before(w.End) {
			a.attended[w.Start.Unix()] = w
		}
		if wake := w.Start.Add(-a.cfg.Lead); next.IsZero() && wake.After(now) {
			next = wake
		}
	}
	if !a.cfg.RTC.Available() {
		a.alarm = time.Time{}
		return
	}
	switch {
	case next.IsZero() && (!a.alarm.IsZero() || a.revoked):
		if err := a.cfg.RTC.Clear(); err != nil {
			a.cfg.Logger.Error("wake alarm not cleared", "component", "terminal", "err", err)
			return
		}
		a.alarm = time.Time{}
	case !next.IsZero() && !next.Equal(a.alarm):
		if err := a.cfg.RTC.Set(next); err != nil {
			a.cfg.Logger.Error("wake alarm not set", "component", "terminal", "err", err)
			return
		}
		a.alarm = next
		a.cfg.Logger.Info("wake alarm set", "component", "terminal", "at", next.UTC())
	}
}

// InWindow says whether now falls in a window, from the wake time to the
// end plus the grace: the PC is never switched off then.
func (a *Agent) InWindow(now time.Time) bool {
	for _, w := range a.windows {
		if !now.Before(w.Start.Add(-a.cfg.Lead)) && now.Before(w.End.Add(a.offAfter)) {
			return true
		}
	}
	return false
}

// dueOff says whether to power off: power saving chosen, a window this PC
// was on for has ended more than the grace ago, no call is going on, no
// window is on now, and the next one can wake the PC by itself (an alarm is
// set) and is far enough away to be worth the power cycle.
func (a *Agent) dueOff(now time.Time) bool {
	if a.offAfter <= 0 || a.revoked || a.busy || a.fails > 0 || a.InWindow(now) {
		return false
	}
	ended := false
	for _, w := range a.attended {
		if !now.Before(w.End.Add(a.offAfter)) {
			ended = true
		}
	}
	if !ended {
		return false
	}
	for _, w := range a.windows {
		if w.Start.After(now) {
			// Another window to come: only if the alarm will wake us for it.
			return !a.alarm.IsZero() && a.alarm.Sub(now) > a.cfg.Lead
		}
	}
	return true
}

// Alarm is the programmed wake time (zero: none).
func (a *Agent) Alarm() time.Time { return a.alarm }

// PowerOffAfter is the grace in force (0: power saving off).
func (a *Agent) PowerOffAfter() time.Duration { return a.offAfter }

// Beats is the number of heartbeats the node accepted.
func (a *Agent) Beats() int { return a.beats }

func (a *Agent) fetch(ctx context.Context) (Windows, error) {
	var ws Windows
	resp, err := a.do(ctx, http.MethodGet, "/api/v1/terminal/windows", nil)
	if err != nil {
		return ws, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ws); err != nil {
		return ws, fmt.Errorf("read the windows: %w", err)
	}
	return ws, nil
}

func (a *Agent) heartbeat(ctx context.Context, now time.Time) {
	hb := Heartbeat{At: now.UTC(), RTC: a.cfg.RTC.Available(), Version: a.cfg.Version,
		Battery: HealthBattery{Percent: BatteryPercent(a.cfg.Sys), WearPercent: battery(a.cfg.Sys + "/class/power_supply").WearPercent},
		Disk:    HealthDisk{FreePercent: freePercent(a.cfg.DiskPath)}}
	if !a.alarm.IsZero() {
		t := a.alarm.UTC()
		hb.AlarmAt = &t
	}
	b, _ := json.Marshal(hb)
	resp, err := a.do(ctx, http.MethodPost, "/api/v1/terminal/heartbeat", b)
	if err != nil {
		a.cfg.Logger.Info("heartbeat not sent", "component", "terminal", "err", err)
		return
	}
	resp.Body.Close()
	a.beats++
}

// do sends one request with the device credential; a 401 is ErrRefused,
// any other non-2xx an error.
func (a *Agent) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.Node+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Credential)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		return nil, ErrRefused
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s", method, path, problemText(resp))
	}
	return resp, nil
}

func freePercent(path string) float64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil || st.Blocks == 0 {
		return 0
	}
	return float64(int(float64(st.Bavail)/float64(st.Blocks)*1000)) / 10
}
