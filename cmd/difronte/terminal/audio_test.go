package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRecorder writes an arecord stand-in that logs its arguments and
// prints bytes (or fails, or prints nothing).
func fakeRecorder(t *testing.T, body string) (tool, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	tool, argsFile = filepath.Join(dir, "arecord"), filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\n" + body + "\n"
	if err := os.WriteFile(tool, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return tool, argsFile
}

// --audio-test N asks the recorder for N seconds of raw 16 kHz sound and
// reports only whether some came back: a working microphone, a recorder
// that fails, one that records nothing, no recorder at all, and no test
// unless asked.
func TestProbeAudioTest(t *testing.T) {
	sys := fakeSys(t)
	probe := func(t *testing.T, extra ...string) (Report, string) {
		t.Helper()
		var out, errb bytes.Buffer
		args := append([]string{"probe", "--print", "--sysfs", sys, "--procfs", t.TempDir(), "--etc", t.TempDir(), "--smartctl", ""}, extra...)
		if err := Main(context.Background(), args, &out, &errb, "test"); err != nil {
			t.Fatalf("probe: %v (%s)", err, errb.String())
		}
		var r Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("printed report: %v\n%s", err, out.String())
		}
		return r, out.String()
	}
	t.Run("working microphone", func(t *testing.T) {
		tool, argsFile := fakeRecorder(t, "printf 'RIFFsomesound'")
		r, raw := probe(t, "--audio-test", "3", "--arecord", tool)
		if r.AudioTest == nil || !r.AudioTest.Recorded || r.AudioTest.Seconds != 3 {
			t.Fatalf("audio test %+v", r.AudioTest)
		}
		args, err := os.ReadFile(argsFile)
		if err != nil || strings.TrimSpace(string(args)) != "-q -d 3 -f S16_LE -r 16000 -t raw" {
			t.Fatalf("recorder called with %q (%v)", args, err)
		}
		if strings.Contains(raw, "somesound") {
			t.Fatal("the recording is in the report")
		}
	})
	t.Run("recorder fails", func(t *testing.T) {
		tool, _ := fakeRecorder(t, "printf 'partial'; exit 1")
		if r, _ := probe(t, "--audio-test", "2", "--arecord", tool); r.AudioTest == nil || r.AudioTest.Recorded {
			t.Fatalf("audio test %+v", r.AudioTest)
		}
	})
	t.Run("silence", func(t *testing.T) {
		tool, _ := fakeRecorder(t, "true")
		if r, _ := probe(t, "--audio-test", "2", "--arecord", tool); r.AudioTest == nil || r.AudioTest.Recorded {
			t.Fatalf("audio test %+v", r.AudioTest)
		}
	})
	t.Run("no recorder", func(t *testing.T) {
		if r, _ := probe(t, "--audio-test", "2", "--arecord", filepath.Join(t.TempDir(), "none")); r.AudioTest == nil || r.AudioTest.Recorded {
			t.Fatalf("audio test %+v", r.AudioTest)
		}
	})
	t.Run("capped at 30 seconds", func(t *testing.T) {
		tool, argsFile := fakeRecorder(t, "printf x")
		r, _ := probe(t, "--audio-test", "600", "--arecord", tool)
		args, _ := os.ReadFile(argsFile)
		if r.AudioTest == nil || r.AudioTest.Seconds != 30 || !strings.Contains(string(args), "-d 30 ") {
			t.Fatalf("audio test %+v, recorder args %q", r.AudioTest, args)
		}
	})
	t.Run("not asked", func(t *testing.T) {
		tool, argsFile := fakeRecorder(t, "printf x")
		if r, _ := probe(t, "--arecord", tool); r.AudioTest != nil {
			t.Fatalf("audio test without --audio-test: %+v", r.AudioTest)
		}
		if _, err := os.Stat(argsFile); !os.IsNotExist(err) {
			t.Fatal("the recorder ran without --audio-test")
		}
	})
}
