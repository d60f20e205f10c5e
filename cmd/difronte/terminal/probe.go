package terminal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/difronte/difronte/node/workshop"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The hardware report the probe sends is the workshop's own type: the
// node decodes exactly these names (node/workshop, strictly).
type (
	Report    = workshop.Report
	CPU       = workshop.CPU
	Disk      = workshop.Disk
	Battery   = workshop.Battery
	Screen    = workshop.Screen
	Network   = workshop.Network
	BIOS      = workshop.BIOS
	AudioTest = workshop.AudioTest
)

// Paths are where the probe and the agent read and write the system; tests
// point them at a temporary tree.
type Paths struct {
	Sys      string // /sys
	Proc     string // /proc
	Etc      string // /etc (adjtime)
	Smartctl string // smartctl executable; "" or missing: SMART "unknown"
	Arecord  string // arecord executable for the audio test
}

// DefaultPaths are the real system's.
func DefaultPaths() Paths {
	return Paths{Sys: "/sys", Proc: "/proc", Etc: "/etc", Smartctl: "smartctl", Arecord: "arecord"}
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readInt(path string) int64 {
	n, err := strconv.ParseInt(readTrim(path), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Collect reads the hardware report. Missing files and tools leave their
// fields at zero: an old PC with no battery or no DMI is still probed.
func Collect(ctx context.Context, p Paths, now time.Time) Report {
	r := Report{CollectedAt: now.UTC().Truncate(time.Second), Arch: runtime.GOARCH, Disks: []Disk{}}
	r.CPU = cpuInfo(filepath.Join(p.Proc, "cpuinfo"))
	r.RAMMB = memTotalMB(filepath.Join(p.Proc, "meminfo"))
	r.Disks = disks(ctx, p)
	r.Battery = battery(filepath.Join(p.Sys, "class/power_supply"))
	r.Screen = screen(filepath.Join(p.Sys, "class/drm"))
	vids, _ := filepath.Glob(filepath.Join(p.Sys, "class/video4linux/video*"))
	r.Webcam = len(vids) > 0
	capt, _ := filepath.Glob(filepath.Join(p.Proc, "asound/card*/pcm*c"))
	play, _ := filepath.Glob(filepath.Join(p.Proc, "asound/card*/pcm*p"))
	r.Microphone, r.Speakers = len(capt) > 0, len(play) > 0
	r.Network = network(filepath.Join(p.Sys, "class/net"))
	dmi := filepath.Join(p.Sys, "class/dmi/id")
	r.BIOS = BIOS{Vendor: readTrim(filepath.Join(dmi, "bios_vendor")), Version: readTrim(filepath.Join(dmi, "bios_version")), Date: readTrim(filepath.Join(dmi, "bios_date"))}
	r.RTCWakealarm = exists(filepath.Join(p.Sys, "class/rtc/rtc0/wakealarm"))
	r.RTCLocalTime = RTCLocal(p.Etc)
	return r
}

func cpuInfo(path string) CPU {
	var c CPU
	f, err := os.Open(path)
	if err != nil {
		return c
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			c.Cores++
		case "model name":
			if c.Model == "" {
				c.Model = strings.TrimSpace(v)
			}
		}
	}
	return c
}

func memTotalMB(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb / 1024
		}
	}
	return 0
}

// disks lists the block devices backed by hardware (loop, ram, zram and
// optical drives are left out).
func disks(ctx context.Context, p Paths) []Disk {
	out := []Disk{}
	ents, err := os.ReadDir(filepath.Join(p.Sys, "block"))
	if err != nil {
		return out
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "zram") || strings.HasPrefix(n, "sr") {
			continue
		}
		dir := filepath.Join(p.Sys, "block", n)
		if !exists(filepath.Join(dir, "device")) {
			continue
		}
		sectors := readInt(filepath.Join(dir, "size")) // always 512-byte units
		gb := float64(sectors*512) / 1e9
		out = append(out, Disk{Name: n, Model: readTrim(filepath.Join(dir, "device/model")),
			SizeGB: float64(int(gb*10+0.5)) / 10, Rotational: readTrim(filepath.Join(dir, "queue/rotational")) == "1",
			SMART: smart(ctx, p.Smartctl, "/dev/"+n)})
	}
	return out
}

// smart asks smartctl for the overall health; no tool, no answer, or an
// answer it does not know is "unknown".
func smart(ctx context.Context, tool, dev string) string {
	if tool == "" {
		return "unknown"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, tool, "-H", dev).Output() // non-zero exit on failing disks
	switch s := string(out); {
	case strings.Contains(s, "PASSED"), strings.Contains(s, ": OK"):
		return "passed"
	case strings.Contains(s, "FAILED"):
		return "failed"
	}
	return "unknown"
}

func battery(dir string) Battery {
	bats, _ := filepath.Glob(filepath.Join(dir, "BAT*"))
	sort.Strings(bats)
	for _, b := range bats {
		full, design := readInt(filepath.Join(b, "energy_full")), readInt(filepath.Join(b, "energy_full_design"))
		if design == 0 {
			full, design = readInt(filepath.Join(b, "charge_full")), readInt(filepath.Join(b, "charge_full_design"))
		}
		bt := Battery{Present: readTrim(filepath.Join(b, "present")) != "0"}
		if design > 0 && full <= design {
			bt.WearPercent = float64(int((1-float64(full)/float64(design))*1000+0.5)) / 10
		}
		return bt
	}
	return Battery{}
}

// BatteryPercent is the charge of the first battery, -1 without one.
func BatteryPercent(sys string) int {
	bats, _ := filepath.Glob(filepath.Join(sys, "class/power_supply/BAT*"))
	sort.Strings(bats)
	for _, b := range bats {
		if v := readTrim(filepath.Join(b, "capacity")); v != "" {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func screen(dir string) Screen {
	outs, _ := filepath.Glob(filepath.Join(dir, "card*-*"))
	sort.Strings(outs)
	for _, o := range outs {
		if readTrim(filepath.Join(o, "status")) != "connected" {
			continue
		}
		modes := readTrim(filepath.Join(o, "modes"))
		first, _, _ := strings.Cut(modes, "\n")
		w, h, ok := strings.Cut(strings.TrimSpace(first), "x")
		if !ok {
			continue
		}
		wi, _ := strconv.Atoi(w)
		hi, _ := strconv.Atoi(strings.TrimRightFunc(h, func(r rune) bool { return r < '0' || r > '9' }))
		if wi > 0 && hi > 0 {
			return Screen{Width: wi, Height: hi}
		}
	}
	return Screen{}
}

func network(dir string) Network {
	var n Network
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		d := filepath.Join(dir, e.Name())
		if e.Name() == "lo" || !exists(filepath.Join(d, "device")) {
			continue // virtual interfaces have no device
		}
		if exists(filepath.Join(d, "wireless")) || exists(filepath.Join(d, "phy80211")) {
			n.WiFi = true
		} else if readTrim(filepath.Join(d, "type")) == "1" {
			n.Ethernet = true
		}
	}
	return n
}

// RTCLocal says whether the hardware clock keeps local time: /etc/adjtime's
// third line is "LOCAL" (no file, or "UTC": the clock keeps UTC).
func RTCLocal(etc string) bool {
	b, err := os.ReadFile(filepath.Join(etc, "adjtime"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 3 && strings.TrimSpace(lines[2]) == "LOCAL"
}

// audioTest records a few seconds from the default microphone and says
// whether anything came back; the recording is thrown away.
func audioTest(ctx context.Context, tool string, seconds int) *AudioTest {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+10)*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "-q", "-d", strconv.Itoa(seconds), "-f", "S16_LE", "-r", "16000", "-t", "raw").Output()
	return &AudioTest{Recorded: err == nil && len(out) > 0, Seconds: seconds}
}

// SendReport posts the report with the workshop's one-time code.
func SendReport(ctx context.Context, hc *http.Client, node, code string, r Report) error {
	body, err := json.Marshal(map[string]any{"code": code, "report": r})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(node, "/")+"/api/v1/terminals/probe", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("send the report: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the node refused the report: %s", problemText(resp))
	}
	return nil
}

// problemText is the node's error body's message, or the status.
func problemText(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var p struct {
		Code    string `json:"code"`
		Message string `json:"error"`
	}
	if json.Unmarshal(b, &p) == nil && p.Message != "" {
		return fmt.Sprintf("%d %s (%s)", resp.StatusCode, p.Message, p.Code)
	}
	return resp.Status
}
