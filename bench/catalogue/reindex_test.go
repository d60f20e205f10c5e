package main

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// A child's maxrss includes this process's peak RSS until resetPeakRSS
// has dropped it: the reindex figure is the child's own peak, not the
// seeding's.
func TestChildPeakRSSAfterReset(t *testing.T) {
	const big = 200 << 20
	held := make([]byte, big)
	for i := 0; i < len(held); i += 4096 {
		held[i] = 1
	}
	inherited := childMaxRSS(t)
	runtime.KeepAlive(held)
	if inherited < big/1024 {
		t.Fatalf("child maxrss %d KiB while this process held %d KiB: the inheritance this test guards against did not happen", inherited, big/1024)
	}
	held = nil
	own, floor, err := resetPeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if own < big/1024 || floor >= big/1024/2 {
		t.Errorf("peak before reset %d KiB, after %d KiB; want at least %d before and under %d after", own, floor, big/1024, big/1024/2)
	}
	if got := childMaxRSS(t); got >= big/1024/2 {
		t.Errorf("child maxrss %d KiB after the reset, want under %d KiB", got, big/1024/2)
	}
}

// childMaxRSS runs this test binary with no tests and returns its maxrss
// in KiB.
func childMaxRSS(t *testing.T) int {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	return int(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
}
