package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// startProfiler serves Go's profiles (net/http/pprof) on the loopback
// address in DIFRONTE_PPROF, for an operator or a benchmark chasing a
// latency or memory problem: DIFRONTE_PPROF=127.0.0.1:6060 difronte serve.
// Off by default; any address other than loopback is refused, since the
// profiles show the heap.
func startProfiler(stderr io.Writer) error {
	addr := os.Getenv("DIFRONTE_PPROF")
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: DIFRONTE_PPROF=%q: want a loopback address and port, such as 127.0.0.1:6060", errUsage, addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("DIFRONTE_PPROF: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	fmt.Fprintf(stderr, "profiles on http://%s/debug/pprof/\n", l.Addr())
	go http.Serve(l, mux)
	return nil
}
