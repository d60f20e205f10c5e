package workshop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/difronte/difronte/schema"
)

// Report is the hardware report `difronte terminal probe` sends. Its
// field names are fixed: the agent sends exactly these, and DecodeReport
// refuses any other.
type Report struct {
	CollectedAt  time.Time  `json:"collected_at"`
	Arch         string     `json:"arch"`
	CPU          CPU        `json:"cpu"`
	RAMMB        int        `json:"ram_mb"`
	Disks        []Disk     `json:"disks"`
	Battery      Battery    `json:"battery"`
	Screen       Screen     `json:"screen"`
	Webcam       bool       `json:"webcam"`
	Microphone   bool       `json:"microphone"`
	Speakers     bool       `json:"speakers"`
	Network      Network    `json:"network"`
	BIOS         BIOS       `json:"bios"`
	RTCWakealarm bool       `json:"rtc_wakealarm"`
	RTCLocalTime bool       `json:"rtc_local_time"`
	AudioTest    *AudioTest `json:"audio_test,omitempty"`
}

// CPU is the processor.
type CPU struct {
	Model string `json:"model"`
	Cores int    `json:"cores"`
}

// Disk is one disk and its SMART verdict.
type Disk struct {
	Name       string  `json:"name"`
	Model      string  `json:"model"`
	SizeGB     float64 `json:"size_gb"`
	Rotational bool    `json:"rotational"`
	SMART      string  `json:"smart"` // passed, failed or unknown
}

// Battery is a laptop's battery; Present is false on a desktop.
type Battery struct {
	Present     bool    `json:"present"`
	WearPercent float64 `json:"wear_percent"`
}

// Screen is the screen's resolution in pixels.
type Screen struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Network says which interfaces the PC has.
type Network struct {
	Ethernet bool `json:"ethernet"`
	WiFi     bool `json:"wifi"`
}

// BIOS is the firmware's vendor, version and date as the PC reports them.
type BIOS struct {
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
	Date    string `json:"date"`
}

// AudioTest is the short recording the probe makes when asked.
type AudioTest struct {
	Recorded bool `json:"recorded"`
	Seconds  int  `json:"seconds"`
}

// MaxReport is the largest report body accepted.
const MaxReport = 32 << 10

// ErrReport is a report that cannot be read or is out of range.
var ErrReport = errors.New("bad hardware report")

// Arches are the architectures a report may name (Go's GOARCH names).
var Arches = []string{"amd64", "386", "arm64", "arm"}

// SMARTVerdicts are a disk's possible health verdicts.
var SMARTVerdicts = []string{"passed", "failed", "unknown"}

// DecodeReport reads a report strictly: valid UTF-8, one JSON object with
// only the fixed field names (unknown ones refused), no member twice, no
// trailing data, and every value in its range.
func DecodeReport(b []byte) (Report, error) {
	var r Report
	if len(b) > MaxReport {
		return r, fmt.Errorf("%w: larger than %d bytes", ErrReport, MaxReport)
	}
	if !utf8.Valid(b) {
		return r, fmt.Errorf("%w: not UTF-8", ErrReport)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrReport, err)
	}
	if dec.More() {
		return Report{}, fmt.Errorf("%w: trailing data", ErrReport)
	}
	if err := schema.CheckJSONText(b); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrReport, err)
	}
	if err := r.check(); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrReport, err)
	}
	return r, nil
}

func (r *Report) check() error {
	texts := map[string]string{"cpu.model": r.CPU.Model, "bios.vendor": r.BIOS.Vendor, "bios.version": r.BIOS.Version, "bios.date": r.BIOS.Date}
	for i, d := range r.Disks {
		texts[fmt.Sprintf("disks.%d.name", i)] = d.Name
		texts[fmt.Sprintf("disks.%d.model", i)] = d.Model
	}
	for k, v := range texts {
		if c := schema.TextFault(v, 200, false); c != "" {
			return fmt.Errorf("%s: %s", k, c)
		}
	}
	switch {
	case r.CollectedAt.IsZero() || r.CollectedAt.Year() < 2000 || r.CollectedAt.Year() > 9999:
		return errors.New("collected_at missing or out of range")
	case !slices.Contains(Arches, r.Arch):
		return errors.New("arch unknown")
	case r.CPU.Cores < 0 || r.CPU.Cores > 1024:
		return errors.New("cpu.cores out of range")
	case r.RAMMB < 0 || r.RAMMB > 1<<22:
		return errors.New("ram_mb out of range")
	case len(r.Disks) > 16:
		return errors.New("too many disks")
	case r.Battery.WearPercent < 0 || r.Battery.WearPercent > 100:
		return errors.New("battery.wear_percent out of range")
	case r.Screen.Width < 0 || r.Screen.Width > 16384 || r.Screen.Height < 0 || r.Screen.Height > 16384:
		return errors.New("screen out of range")
	case r.AudioTest != nil && (r.AudioTest.Seconds < 0 || r.AudioTest.Seconds > 60):
		return errors.New("audio_test.seconds out of range")
	}
	for i, d := range r.Disks {
		if !slices.Contains(SMARTVerdicts, d.SMART) {
			return fmt.Errorf("disks.%d.smart unknown", i)
		}
		if d.SizeGB < 0 || d.SizeGB > 1<<20 {
			return fmt.Errorf("disks.%d.size_gb out of range", i)
		}
	}
	return nil
}

// Health thresholds: a Chromium kiosk with a video call needs about 2 GB
// (1900 MB leaves room for what the firmware keeps); a battery worn past
// 40% lasts little, past 80% it is dead.
const (
	MinRAMMB    = 1900
	BatteryWorn = 40.0
	BatteryDead = 80.0
)

// Warnings are the report's health warnings, as catalogue codes under
// "workshop.warn.", the gravest first.
func (r Report) Warnings() []string {
	var w []string
	for _, d := range r.Disks {
		if d.SMART == "failed" {
			w = append(w, "disk_failing")
			break
		}
	}
	if !r.RTCWakealarm {
		w = append(w, "no_rtc_alarm")
	}
	if r.Arch == "386" || r.Arch == "arm" {
		w = append(w, "arch_32bit")
	}
	if r.RAMMB < MinRAMMB {
		w = append(w, "low_ram")
	}
	switch {
	case r.Battery.Present && r.Battery.WearPercent >= BatteryDead:
		w = append(w, "battery_dead")
	case r.Battery.Present && r.Battery.WearPercent >= BatteryWorn:
		w = append(w, "battery_worn")
	}
	if !r.Webcam {
		w = append(w, "no_webcam")
	}
	if !r.Microphone {
		w = append(w, "no_microphone")
	}
	if !r.Speakers {
		w = append(w, "no_speakers")
	}
	if !r.Network.Ethernet && !r.Network.WiFi {
		w = append(w, "no_network")
	}
	if r.AudioTest != nil && !r.AudioTest.Recorded {
		w = append(w, "audio_test_failed")
	}
	return w
}

// WarningCodes are every code Warnings may return.
var WarningCodes = []string{"disk_failing", "no_rtc_alarm", "arch_32bit", "low_ram", "battery_dead", "battery_worn",
	"no_webcam", "no_microphone", "no_speakers", "no_network", "audio_test_failed"}
