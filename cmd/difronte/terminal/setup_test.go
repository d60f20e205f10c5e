package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/difronte/difronte/node/workshop"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCollectFakeSysfs(t *testing.T) {
	sys := fakeSys(t)
	proc := t.TempDir()
	etc := t.TempDir()
	write(t, filepath.Join(proc, "cpuinfo"), "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5-3320M CPU @ 2.60GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Core(TM) i5-3320M CPU @ 2.60GHz\n")
	write(t, filepath.Join(proc, "meminfo"), "MemTotal:        3931136 kB\nMemFree:  100 kB\n")
	write(t, filepath.Join(proc, "asound/card0/pcm0p/info"), "")
	write(t, filepath.Join(proc, "asound/card0/pcm0c/info"), "")
	write(t, filepath.Join(etc, "adjtime"), "0.0 0 0.0\n0\nLOCAL\n")
	// A smartctl that says the disk is failing.
	tool := filepath.Join(t.TempDir(), "smartctl")
	write(t, tool, "#!/bin/sh\necho 'SMART overall-health self-assessment test result: FAILED!'\nexit 8\n")
	if err := os.Chmod(tool, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := Collect(context.Background(), Paths{Sys: sys, Proc: proc, Etc: etc, Smartctl: tool}, now)
	want := Report{CollectedAt: now, Arch: r.Arch, CPU: CPU{Model: "Intel(R) Core(TM) i5-3320M CPU @ 2.60GHz", Cores: 2}, RAMMB: 3839,
		Disks:   []Disk{{Name: "sda", Model: "ST9250315AS", SizeGB: 250.1, Rotational: true, SMART: "failed"}},
		Battery: Battery{Present: true, WearPercent: 25}, Screen: Screen{Width: 1366, Height: 768},
		Webcam: true, Microphone: true, Speakers: true, Network: Network{Ethernet: true, WiFi: true},
		BIOS:         BIOS{Vendor: "LENOVO", Version: "8DET69WW (1.39 )", Date: "07/18/2013"},
		RTCWakealarm: true, RTCLocalTime: true}
	got, _ := json.Marshal(r)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Fatalf("report\n got %s\nwant %s", got, exp)
	}
	// What the probe sends is what the workshop reads: its strict decoder
	// takes the report whole, and sees the same hardware.
	dec, err := workshop.DecodeReport(got)
	if err != nil {
		t.Fatalf("the workshop refuses the probe's report: %v", err)
	}
	if dec.RAMMB != 3839 || len(dec.Disks) != 1 || dec.Disks[0].SMART != "failed" || !dec.RTCWakealarm || dec.Battery.WearPercent != 25 {
		t.Fatalf("the workshop read %+v", dec)
	}
	// No tools, no sysfs: still a report, with nothing claimed.
	empty := Collect(context.Background(), Paths{Sys: t.TempDir(), Proc: t.TempDir(), Etc: t.TempDir()}, now)
	if empty.RTCWakealarm || empty.Battery.Present || len(empty.Disks) != 0 || empty.RTCLocalTime {
		t.Fatalf("empty system reported %+v", empty)
	}
}

// The probe posts {"code","report"} with exactly the report's names.
func TestProbeSendsReport(t *testing.T) {
	var body map[string]json.RawMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/terminals/probe" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if string(body["code"]) != `"ABCD-1234"` {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"the probe code is wrong or spent","code":"probe_code_invalid"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	sys := fakeSys(t)
	var out, errb bytes.Buffer
	err := Main(context.Background(), []string{"probe", "--node", srv.URL, "--code", "ABCD-1234", "--sysfs", sys, "--procfs", t.TempDir(), "--etc", t.TempDir(), "--smartctl", ""}, &out, &errb, "test")
	if err != nil {
		t.Fatalf("probe: %v (%s)", err, errb.String())
	}
	var rep map[string]json.RawMessage
	if err := json.Unmarshal(body["report"], &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"collected_at", "arch", "cpu", "ram_mb", "disks", "battery", "screen", "webcam", "microphone", "speakers", "network", "bios", "rtc_wakealarm", "rtc_local_time"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	if len(rep) != 14 {
		t.Errorf("report has %d members, want 14: %s", len(rep), body["report"])
	}
	err = Main(context.Background(), []string{"probe", "--node", srv.URL, "--code", "WRONG", "--sysfs", sys, "--smartctl", ""}, &out, &errb, "test")
	if err == nil || !strings.Contains(err.Error(), "probe_code_invalid") {
		t.Fatalf("wrong code: %v", err)
	}
}

// setup in a throwaway root: the first run makes the kiosk, the second
// changes nothing, and --check then reports nothing.
func TestSetupTwiceInRoot(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")
	// A useradd that writes the user into the root's passwd, as
	// useradd --root does.
	ua := filepath.Join(t.TempDir(), "useradd")
	write(t, ua, "#!/bin/sh\nfor a; do last=$a; done\nwhile [ $# -gt 1 ]; do if [ \"$1\" = --root ]; then r=$2; fi; shift; done\necho \"$last:x:1001:1001::/home/$last:/bin/bash\" >> \"$r/etc/passwd\"\n")
	if err := os.Chmod(ua, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"setup", "--root", root, "--node", "http://192.0.2.10:8080", "--credential", testCred, "--useradd", ua, "--power-off-after", "15m"}
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := Main(ctx, []string{"setup", "--check", "--root", root, "--node", "http://192.0.2.10:8080", "--credential", testCred}, &out, &errb, "t"); err == nil {
		t.Fatal("--check before setup reported no difference")
	}
	out.Reset()
	if err := Main(ctx, args, &out, &errb, "t"); err != nil {
		t.Fatalf("setup: %v (%s)", err, errb.String())
	}
	first := out.String()
	for _, want := range []string{"created user difronte-kiosk", "difronte-terminal.service", ".xinitrc", "20auto-upgrades", "policies/managed/difronte.json", "sleep.target"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run did not make %q:\n%s", want, first)
		}
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/difronte-terminal.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/local/bin/difronte terminal run --config /etc/difronte/terminal.json") {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	if fi, err := os.Stat(ConfigPath(root)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file: %v %v", err, fi)
	}
	st, err := readSettings(ConfigPath(root))
	if err != nil || st.Credential != testCred || st.PowerOffAfter != "15m0s" || st.Lead != "10m0s" {
		t.Fatalf("settings %+v %v", st, err)
	}
	url, _ := os.ReadFile(filepath.Join(root, "home/difronte-kiosk/.difronte-kiosk-url"))
	if string(url) != "http://192.0.2.10:8080/terminal#credential="+testCred+"\n" {
		t.Fatalf("kiosk url %q", url)
	}
	out.Reset()
	if err := Main(ctx, args, &out, &errb, "t"); err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if !strings.HasPrefix(out.String(), "nothing to change") {
		t.Fatalf("second run changed:\n%s", out.String())
	}
	out.Reset()
	// --check finds the node and credential in the settings file.
	if err := Main(ctx, []string{"setup", "--check", "--root", root}, &out, &errb, "t"); err != nil || out.Len() != 0 {
		t.Fatalf("--check after setup: %v\n%s", err, out.String())
	}
	// A hand edit is reported and put back.
	if err := os.WriteFile(filepath.Join(root, "etc/apt/apt.conf.d/20auto-upgrades"), []byte("off\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Main(ctx, []string{"setup", "--check", "--root", root}, &out, &errb, "t"); err == nil || !strings.Contains(out.String(), "20auto-upgrades: content differs") {
		t.Fatalf("--check missed an edit: %v\n%s", err, out.String())
	}
}

func TestHelpAndUsage(t *testing.T) {
	for _, c := range []string{"probe", "setup", "run"} {
		var out, errb bytes.Buffer
		err := Main(context.Background(), []string{c, "--help"}, &out, &errb, "t")
		if err == nil || !strings.Contains(errb.String(), "Usage: difronte terminal "+c) {
			t.Errorf("%s --help: %v\n%s", c, err, errb.String())
		}
	}
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"fly"}, {"probe", "--bogus"}, {"probe"}} {
		if err := Main(context.Background(), args, &out, &errb, "t"); err == nil {
			t.Errorf("%v: no usage error", args)
		}
	}
}
