package workshop

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDecodeReportStrict(t *testing.T) {
	r, err := DecodeReport([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	if r.RAMMB != 4096 || r.Disks[0].SizeGB != 500.1 || !r.RTCWakealarm || r.AudioTest == nil || r.AudioTest.Seconds != 3 {
		t.Fatalf("decoded %+v", r)
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Fatalf("a good PC has warnings %v", w)
	}
	// audio_test is optional.
	noAudio := strings.Replace(report, `,
 "audio_test":{"recorded":true,"seconds":3}`, "", 1)
	if _, err := DecodeReport([]byte(noAudio)); err != nil {
		t.Fatalf("without audio_test: %v", err)
	}
	for name, body := range map[string]string{
		"unknown field":        strings.Replace(report, `"ram_mb"`, `"ram_gb":4,"ram_mb"`, 1),
		"unknown nested field": strings.Replace(report, `"cores":2`, `"cores":2,"threads":4`, 1),
		"member twice":         strings.Replace(report, `"ram_mb":4096`, `"ram_mb":4096,"ram_mb":1`, 1),
		"member twice by case": strings.Replace(report, `"ram_mb":4096`, `"ram_mb":4096,"RAM_MB":1`, 1),
		"trailing data":        report + ` {}`,
		"wrong type":           strings.Replace(report, `"webcam":true`, `"webcam":"yes"`, 1),
		"bad smart":            strings.Replace(report, `"passed"`, `"ok"`, 1),
		"bad arch":             strings.Replace(report, `"amd64"`, `"x86_64"`, 1),
		"no collected_at":      strings.Replace(report, `"collected_at":"2026-06-01T08:00:00Z",`, ``, 1),
		"negative ram":         strings.Replace(report, `4096`, `-1`, 1),
		"wear over 100":        strings.Replace(report, `22.5`, `101`, 1),
		"control character":    strings.Replace(report, `LENOVO`, `LEN\u001bOVO`, 1),
		"not utf-8":            strings.Replace(report, `LENOVO`, "LEN\xffOVO", 1),
		"array":                `[` + report + `]`,
		"empty":                ``,
		"too large":            strings.Replace(report, `LENOVO`, strings.Repeat("L", MaxReport), 1),
	} {
		if _, err := DecodeReport([]byte(body)); !errors.Is(err, ErrReport) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	base, _ := DecodeReport([]byte(report))
	for _, c := range []struct {
		change func(r *Report)
		want   string
	}{
		{func(r *Report) { r.Disks[0].SMART = "failed" }, "disk_failing"},
		{func(r *Report) { r.RTCWakealarm = false }, "no_rtc_alarm"},
		{func(r *Report) { r.RAMMB = 1024 }, "low_ram"},
		{func(r *Report) { r.Battery.WearPercent = 85 }, "battery_dead"},
		{func(r *Report) { r.Battery.WearPercent = 50 }, "battery_worn"},
		{func(r *Report) { r.Webcam = false }, "no_webcam"},
		{func(r *Report) { r.Microphone = false }, "no_microphone"},
		{func(r *Report) { r.Speakers = false }, "no_speakers"},
		{func(r *Report) { r.Network = Network{} }, "no_network"},
		{func(r *Report) { r.Arch = "386" }, "arch_32bit"},
		{func(r *Report) { r.AudioTest.Recorded = false }, "audio_test_failed"},
	} {
		r := base
		r.Disks = slices.Clone(base.Disks)
		at := *base.AudioTest
		r.AudioTest = &at
		c.change(&r)
		if w := r.Warnings(); len(w) != 1 || w[0] != c.want || !slices.Contains(WarningCodes, w[0]) {
			t.Errorf("want %s, got %v", c.want, w)
		}
	}
	// A desktop has no battery: no warning for it.
	r := base
	r.Battery = Battery{Present: false, WearPercent: 0}
	if w := r.Warnings(); len(w) != 0 {
		t.Fatalf("desktop warnings %v", w)
	}
}

// FuzzDecodeReport: the probe's report comes from the network without an
// account. Whatever the bytes, the decoder returns an error or a report
// within range, never panics, and what it accepts it accepts again once
// re-encoded.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(report))
	f.Add([]byte(`{"collected_at":"2026-06-01T08:00:00Z","arch":"386","cpu":{"model":"","cores":0},"ram_mb":0,"disks":[],"battery":{"present":false,"wear_percent":0},"screen":{"width":0,"height":0},"webcam":false,"microphone":false,"speakers":false,"network":{"ethernet":false,"wifi":false},"bios":{"vendor":"","version":"","date":""},"rtc_wakealarm":false,"rtc_local_time":true}`))
	f.Add([]byte(`{"disks":[{"smart":"failed","size_gb":1e309}]}`))
	f.Add([]byte(`{"ram_mb":1,"ram_mb":2}`))
	f.Add([]byte("\xff"))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReport(b)
		if err != nil {
			if !errors.Is(err, ErrReport) {
				t.Fatalf("error not ErrReport: %v", err)
			}
			return
		}
		if err := r.check(); err != nil {
			t.Fatalf("accepted a report out of range: %v", err)
		}
		_ = r.Warnings()
	})
}
