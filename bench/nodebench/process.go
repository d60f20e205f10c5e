package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/difronte/difronte/bench/internal/scrape"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type proc struct {
	*exec.Cmd
	url string
}

// serve starts difronte serve on dir and returns when /readyz answers,
// with the time since exec.
func (b *bench) serve(dir string) (*proc, time.Duration, error) {
	cmd := exec.Command(b.bin, "serve", "--data", dir, "--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DIFRONTE_ADMIN_PASSWORD="+password)
	t0 := time.Now()
	p, err := startServing(cmd)
	if err != nil {
		return nil, 0, err
	}
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		resp, err := c.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(t0), nil
			}
		}
	}
	stopProc(p.Cmd)
	return nil, 0, errors.New("node not ready after 30 s")
}

func startChild(self, dir string, stock bool) (*proc, error) {
	args := []string{"-child", "-data", dir}
	if stock {
		args = append(args, "-stock")
	}
	return startServing(exec.Command(self, args...))
}

// startServing starts cmd and waits for its "serving on URL" line.
func startServing(cmd *exec.Cmd) (*proc, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), " serving on "); ok {
				urlc <- u
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-urlc:
		return &proc{Cmd: cmd, url: u}, nil
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, errors.New("process did not start serving")
	}
}

func stopProc(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// heapInuse reads the node's Go heap in use (KiB) from its /metrics: the
// part of RSS that is Go objects rather than badger's tables and caches.
func heapInuse(url string) int {
	f, ok := scrape.Metric(url, "go_memstats_heap_inuse_bytes")
	if !ok {
		return -1
	}
	return int(f / 1024)
}

// rss reads VmRSS (KiB) of pid.
func rss(pid int) int { return statusKB(pid, "VmRSS:") }

// hwmOf reads VmHWM, the peak resident size (KiB) of pid.
func hwmOf(pid int) int { return statusKB(pid, "VmHWM:") }

func statusKB(pid int, field string) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}
