package terminal

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/testnet/poll"
)

const testCred = "cred-ponte-di-vetro-42"

// fakeNode answers the two device routes as the node does.
type fakeNode struct {
	mu      sync.Mutex
	windows []Window
	revoked bool
	busy    bool
	power   *PowerSaving
	beats   []Heartbeat
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testCred || f.revoked {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"this terminal's pairing was revoked","code":"device_revoked"}`))
		return
	}
	switch r.URL.Path {
	case "/api/v1/terminal/windows":
		_ = json.NewEncoder(w).Encode(Windows{Terminal: "t1", Windows: f.windows, Busy: f.busy, PowerSaving: f.power})
	case "/api/v1/terminal/heartbeat":
		var hb Heartbeat
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.beats = append(f.beats, hb)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeNode) set(ws ...Window) {
	f.mu.Lock()
	f.windows = ws
	f.mu.Unlock()
}

func (f *fakeNode) beatCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.beats)
}

// fakeSys is a sysfs tree with an RTC, a battery and a disk.
func fakeSys(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"class/rtc/rtc0/wakealarm":                   "",
		"class/power_supply/BAT0/present":            "1",
		"class/power_supply/BAT0/capacity":           "87",
		"class/power_supply/BAT0/energy_full":        "30000000",
		"class/power_supply/BAT0/energy_full_design": "40000000",
		"block/sda/size":                             "488397168",
		"block/sda/device/model":                     "ST9250315AS",
		"block/sda/queue/rotational":                 "1",
		"class/drm/card0-LVDS-1/status":              "connected",
		"class/drm/card0-LVDS-1/modes":               "1366x768\n1024x768",
		"class/drm/card0-VGA-1/status":               "disconnected",
		"class/dmi/id/bios_vendor":                   "LENOVO",
		"class/dmi/id/bios_version":                  "8DET69WW (1.39 )",
		"class/dmi/id/bios_date":                     "07/18/2013",
		"class/net/wlp3s0/device/vendor":             "0x8086",
		"class/net/wlp3s0/wireless/.keep":            "",
		"class/net/enp0s25/device/vendor":            "0x8086",
		"class/net/enp0s25/type":                     "1",
		"class/net/lo/type":                          "772",
		"class/video4linux/video0/name":              "Integrated Camera",
		"block/loop0/size":                           "100",
		"block/sr0/device/model":                     "DVD",
	}
	for p, c := range files {
		write(t, filepath.Join(root, p), c)
	}
	return root
}

func write(t testing.TB, p, c string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rome(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type rig struct {
	node *fakeNode
	srv  *httptest.Server
	clk  *fakeclock.Clock
	sys  string
	a    *Agent
	offs []time.Time
}

func newRig(t *testing.T, now time.Time, local bool, off time.Duration) *rig {
	t.Helper()
	r := &rig{node: &fakeNode{}, clk: fakeclock.New(now), sys: fakeSys(t)}
	r.srv = httptest.NewServer(r.node)
	t.Cleanup(r.srv.Close)
	r.a = New(Config{Node: r.srv.URL, Credential: testCred, PowerOffAfter: off, Clock: r.clk,
		RTC: RTC{Sys: r.sys, Local: local, Zone: rome(t)}, Sys: r.sys, DiskPath: t.TempDir(),
		PowerOff: func(context.Context) error { r.offs = append(r.offs, r.clk.Now()); return nil }})
	return r
}

func (r *rig) wakealarm(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.sys, "class/rtc/rtc0/wakealarm"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func unix(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return strconv.FormatInt(t.Unix(), 10) + "\n"
}

// The alarm is written for the right second on the days Italy changes its
// clocks, for an RTC that keeps UTC and for one that keeps local time.
func TestAlarmAcrossDST(t *testing.T) {
	loc := rome(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name       string
		now, start time.Time
		local      bool
		want       string // RFC3339 of what the RTC must read when it fires
	}{
		{"spring utc rtc", at("2026-03-28 20:00"), at("2026-03-29 10:00"), false, "2026-03-29T07:50:00Z"},
		{"spring local rtc", at("2026-03-28 20:00"), at("2026-03-29 10:00"), true, "2026-03-29T09:50:00Z"},
		// 03:05 CEST is 01:05Z; ten minutes before is 01:55 CET, an hour
		// that exists only before the change.
		{"spring across the jump utc", at("2026-03-28 20:00"), at("2026-03-29 03:05"), false, "2026-03-29T00:55:00Z"},
		{"spring across the jump local", at("2026-03-28 20:00"), at("2026-03-29 03:05"), true, "2026-03-29T01:55:00Z"},
		{"autumn utc rtc", at("2026-10-24 20:00"), at("2026-10-25 10:00"), false, "2026-10-25T08:50:00Z"},
		{"autumn local rtc", at("2026-10-24 20:00"), at("2026-10-25 10:00"), true, "2026-10-25T09:50:00Z"},
		// The second 02:40 of the night (CET, 01:40Z): wake at the second 02:30.
		{"autumn repeated hour utc", at("2026-10-24 20:00"), time.Date(2026, 10, 25, 1, 40, 0, 0, time.UTC), false, "2026-10-25T01:30:00Z"},
		{"autumn repeated hour local", at("2026-10-24 20:00"), time.Date(2026, 10, 25, 1, 40, 0, 0, time.UTC), true, "2026-10-25T02:30:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.now, c.local, 0)
			r.node.set(Window{Start: c.start, End: c.start.Add(15 * time.Minute)})
			r.a.Step(context.Background())
			if got := r.wakealarm(t); got != unix(c.want) {
				t.Fatalf("wakealarm = %q, want %q (%s)", got, unix(c.want), c.want)
			}
			if want := c.start.Add(-10 * time.Minute); !r.a.Alarm().Equal(want) {
				t.Fatalf("alarm = %s, want %s", r.a.Alarm(), want)
			}
		})
	}
}

func TestReplannedWhenScheduleChanges(t *testing.T) {
	now := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	r := newRig(t, now, false, 0)
	w1 := Window{Start: now.Add(4 * time.Hour), End: now.Add(4*time.Hour + 15*time.Minute)}
	r.node.set(w1)
	r.a.Step(context.Background())
	if got := r.wakealarm(t); got != strconv.FormatInt(w1.Start.Add(-10*time.Minute).Unix(), 10)+"\n" {
		t.Fatalf("first alarm %q", got)
	}
	// The call is moved earlier, and a later one added: the alarm follows.
	w0 := Window{Start: now.Add(2 * time.Hour), End: now.Add(2*time.Hour + 15*time.Minute)}
	r.node.set(w1, w0)
	r.clk.Advance(5 * time.Minute)
	r.a.Step(context.Background())
	if got, want := r.wakealarm(t), strconv.FormatInt(w0.Start.Add(-10*time.Minute).Unix(), 10)+"\n"; got != want {
		t.Fatalf("re-planned alarm %q, want %q", got, want)
	}
	// Every call cancelled: the alarm is cleared.
	r.node.set()
	r.a.Step(context.Background())
	if got := r.wakealarm(t); got != "0\n" || !r.a.Alarm().IsZero() {
		t.Fatalf("alarm after cancel %q (%s), want cleared", got, r.a.Alarm())
	}
}

func TestClearedWhenRevoked(t *testing.T) {
	now := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	r := newRig(t, now, false, 10*time.Minute)
	r.node.set(Window{Start: now.Add(time.Hour), End: now.Add(time.Hour + 15*time.Minute)})
	r.a.Step(context.Background())
	if r.wakealarm(t) == "0\n" || r.a.Alarm().IsZero() {
		t.Fatal("no alarm before the revocation")
	}
	beats := r.node.beatCount()
	r.node.mu.Lock()
	r.node.revoked = true
	r.node.mu.Unlock()
	r.a.Step(context.Background())
	if got := r.wakealarm(t); got != "0\n" || !r.a.Alarm().IsZero() {
		t.Fatalf("alarm after revocation %q, want cleared", got)
	}
	if r.node.beatCount() != beats {
		t.Fatal("a revoked terminal still reported a heartbeat")
	}
	// Long after the window it would have been on for, nothing powers off.
	r.clk.Advance(3 * time.Hour)
	r.a.Step(context.Background())
	if len(r.offs) != 0 {
		t.Fatalf("revoked terminal powered off at %v", r.offs)
	}
}

// Stepping minute by minute across two windows: the PC is switched off
// after each window's end plus the grace, never inside a window, never
// during a call, and never when nothing would wake it for the next one.
func TestPowerOffNeverDuringWindow(t *testing.T) {
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	const grace = 15 * time.Minute
	r := newRig(t, now, false, grace)
	w1 := Window{Start: now.Add(time.Hour), End: now.Add(time.Hour + 20*time.Minute)}
	w2 := Window{Start: now.Add(5 * time.Hour), End: now.Add(5*time.Hour + 20*time.Minute)}
	r.node.set(w1, w2)
	ctx := context.Background()
	for i := 0; i < 8*60; i++ {
		// A call runs past the first window's end and grace.
		busy := r.clk.Now().After(w1.End) && r.clk.Now().Before(w1.End.Add(grace+10*time.Minute))
		r.node.mu.Lock()
		r.node.busy = busy
		r.node.mu.Unlock()
		before := len(r.offs)
		r.a.Step(ctx)
		if len(r.offs) > before {
			at := r.offs[len(r.offs)-1]
			if r.a.InWindow(at) || busy {
				t.Fatalf("powered off at %s inside a window or a call", at)
			}
		}
		r.clk.Advance(time.Minute)
	}
	want := []time.Time{w1.End.Add(grace + 10*time.Minute), w2.End.Add(grace)}
	if len(r.offs) != len(want) {
		t.Fatalf("powered off at %v, want %v", r.offs, want)
	}
	for i := range want {
		if !r.offs[i].Equal(want[i]) {
			t.Fatalf("power off %d at %s, want %s", i, r.offs[i], want[i])
		}
	}
}

// A PC switched on by hand, with no window attended, stays on; so does one
// whose RTC cannot wake it for the next window.
func TestNoPowerOffWithoutAttendedWindowOrAlarm(t *testing.T) {
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	r := newRig(t, now, false, 5*time.Minute)
	r.node.set(Window{Start: now.Add(3 * time.Hour), End: now.Add(3*time.Hour + 15*time.Minute)})
	for i := 0; i < 60; i++ {
		r.a.Step(context.Background())
		r.clk.Advance(time.Minute)
	}
	if len(r.offs) != 0 {
		t.Fatalf("a PC switched on by hand was powered off at %v", r.offs)
	}
	r2 := newRig(t, now, false, 5*time.Minute)
	if err := os.Remove(filepath.Join(r2.sys, "class/rtc/rtc0/wakealarm")); err != nil {
		t.Fatal(err)
	}
	w := Window{Start: now.Add(5 * time.Minute), End: now.Add(20 * time.Minute)}
	r2.node.set(w, Window{Start: now.Add(24 * time.Hour), End: now.Add(24*time.Hour + 15*time.Minute)})
	for i := 0; i < 90; i++ {
		r2.a.Step(context.Background())
		r2.clk.Advance(time.Minute)
	}
	if len(r2.offs) != 0 {
		t.Fatalf("a PC without a wake alarm was powered off at %v", r2.offs)
	}
}

// The node goes away and comes back on the same address: the agent backs
// off, keeps its alarm, and its heartbeats resume.
func TestHeartbeatsResumeAfterNodeRestart(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	node := &fakeNode{windows: []Window{{Start: now.Add(time.Hour), End: now.Add(time.Hour + 15*time.Minute)}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := &http.Server{Handler: node}
	go func() { _ = srv.Serve(ln) }()
	clk := fakeclock.New(now)
	sys := fakeSys(t)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	a := New(Config{Node: "http://" + addr, Credential: testCred, Clock: clk, Poll: time.Minute, MaxBackoff: 2 * time.Minute,
		RTC: RTC{Sys: sys}, Sys: sys, DiskPath: sys, HTTP: hc})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	tick := func() {
		poll.Until(t, 10*time.Second, "agent waiting", func() bool { return clk.Waiters() > 0 })
		clk.Advance(time.Minute)
	}
	poll.Until(t, 10*time.Second, "first heartbeat", func() bool { return node.beatCount() >= 1 })
	alarm := a.cfg.RTC.Read()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Down for a while: several failed steps, with a bounded back-off.
	for i := 0; i < 5; i++ {
		tick()
	}
	down := node.beatCount()
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv2 := &http.Server{Handler: node}
	go func() { _ = srv2.Serve(ln2) }()
	defer srv2.Close()
	for i := 0; i < 10 && node.beatCount() <= down; i++ {
		tick()
		poll.Wait(time.Second, 10*time.Millisecond, func() bool { return node.beatCount() > down })
	}
	if node.beatCount() <= down {
		t.Fatalf("no heartbeat after the node came back (%d before)", down)
	}
	if got := a.cfg.RTC.Read(); got != alarm {
		t.Fatalf("alarm changed across the outage: %q -> %q", alarm, got)
	}
}

// FuzzWindows: whatever the node (or something posing as it) answers, the
// agent never programs an alarm in the past and never panics.
func FuzzWindows(f *testing.F) {
	for _, s := range []string{
		`{"terminal":"t1","windows":[{"start":"2026-05-04T10:00:00Z","end":"2026-05-04T10:15:00Z"}],"busy":false}`,
		`{"windows":[{"start":"2026-05-04T07:00:00Z","end":"2026-05-04T06:00:00Z"}]}`,
		`{"windows":null}`, `[`, `{"windows":[{"start":"0001-01-01T00:00:00Z"}]}`,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/terminal/windows" {
			_, _ = w.Write(body)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	sys := fakeSys(f)
	f.Fuzz(func(t *testing.T, s string) {
		body = []byte(s)
		a := New(Config{Node: srv.URL, Credential: testCred, Clock: fakeclock.New(now), RTC: RTC{Sys: sys}, Sys: sys, DiskPath: sys, PowerOffAfter: time.Minute})
		a.Step(context.Background())
		if al := a.Alarm(); !al.IsZero() && !al.After(now) {
			t.Fatalf("alarm in the past %s for %q", al, s)
		}
	})
}

// The coop's setting, sent with the windows, replaces the agent's own:
// on with a grace where setup chose none, off where setup chose one; absent,
// the agent keeps its own.
func TestPowerSavingSettingFromNode(t *testing.T) {
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		local time.Duration
		node  *PowerSaving
		want  time.Duration
	}{
		{"node turns it on", 0, &PowerSaving{On: true, GraceMinutes: 20}, 20 * time.Minute},
		{"node turns it off", 15 * time.Minute, &PowerSaving{On: false, GraceMinutes: 20}, 0},
		{"node never chose", 15 * time.Minute, nil, 15 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, now, false, c.local)
			w := Window{Start: now.Add(30 * time.Minute), End: now.Add(45 * time.Minute)}
			r.node.set(w, Window{Start: now.Add(24 * time.Hour), End: now.Add(24*time.Hour + 15*time.Minute)})
			r.node.power = c.node
			for i := 0; i < 2*60; i++ {
				r.a.Step(context.Background())
				r.clk.Advance(time.Minute)
			}
			if r.a.PowerOffAfter() != c.want {
				t.Fatalf("grace %s, want %s", r.a.PowerOffAfter(), c.want)
			}
			switch {
			case c.want == 0 && len(r.offs) != 0:
				t.Fatalf("powered off at %v with power saving off", r.offs)
			case c.want > 0 && (len(r.offs) != 1 || !r.offs[0].Equal(w.End.Add(c.want))):
				t.Fatalf("powered off at %v, want once at %s", r.offs, w.End.Add(c.want))
			}
		})
	}
}
