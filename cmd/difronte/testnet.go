package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/difronte/difronte/testnet"
)

func runTestnet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("testnet", stderr)
	nodes := fs.Int("nodes", 3, "number of coop nodes")
	base := fs.Int("http-base-port", 8080, "the authority node serves its web UI on 127.0.0.1:P, coop node i on 127.0.0.1:P+i")
	data := fs.String("data", "testnet-data", "node i keeps its data in DIR/node-i")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 64 {
		return fmt.Errorf("%w: --nodes must be between 1 and 64", errUsage)
	}
	if *base < 1 || *base+*nodes > 65535 {
		return fmt.Errorf("%w: --http-base-port out of range", errUsage)
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Starting a local federation of an authority and %d coop nodes (data in %s)...\n", *nodes, abs)
	ps, err := testnet.StartProcs(ctx, testnet.ProcsConfig{
		Binary: bin, Nodes: *nodes, HTTPBasePort: *base, DataDir: abs,
		AdminPassword: os.Getenv("DIFRONTE_ADMIN_PASSWORD"), Demo: true, Authority: true,
	})
	if err != nil {
		return err
	}
	defer ps.Stop()
	fmt.Fprintln(stdout, "Coops apply for qualifications; the authority approves all but one...")
	officer, err := ps.SeedQualifications(ctx)
	if err != nil {
		return fmt.Errorf("demo qualifications: %w", err)
	}
	fmt.Fprintln(stdout, "\nThe federation is running:")
	a := ps.Authority
	fmt.Fprintf(stdout, "  %-28s %s   %s / %s (officer: the console is at %s/authority)\n", a.Name, a.URL, officer.Username, officer.Password, a.URL)
	for _, p := range ps.Nodes {
		pw := p.Password
		if pw == "" {
			pw = "(set on first start of " + p.DataDir + ")"
		}
		fmt.Fprintf(stdout, "  %-28s %s   admin / %s\n", p.Name, p.URL, pw)
	}
	if len(ps.Nodes) >= 2 {
		fmt.Fprintln(stdout, "\nSetting up the demo check-in call (a terminal answered by this process)...")
		demo, err := ps.StartCallDemo(ctx, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return fmt.Errorf("demo call: %w", err)
		}
		defer demo.Close()
		fmt.Fprintf(stdout, "  log in to node 1 (%s) as %s / %s and press Chiama on the agenda (%s/agenda)\n  to call the demo terminal of node 2 (%s), which answers by itself after %d seconds.\n",
			demo.CaregiverNode.URL, demo.Username, demo.Password, demo.CaregiverNode.URL, demo.TerminalNode.Name, testnet.DemoCountdown)
	}
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop every node.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping...")
	return nil
}
