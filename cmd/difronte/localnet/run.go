package localnet

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
)

// Flags are the flags of `difronte testnet`, shared with the dev command.
type Flags struct {
	Nodes        int
	HTTPBasePort int
	DataDir      string
}

// Register defines the flags on fs with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.Nodes, "nodes", 3, "number of coop nodes")
	fs.IntVar(&f.HTTPBasePort, "http-base-port", 8080, "the authority node serves its web UI on 127.0.0.1:P, coop node i on 127.0.0.1:P+i")
	fs.StringVar(&f.DataDir, "data", "testnet-data", "node i keeps its data in DIR/node-i")
}

// Check reports a flag value out of range; the commands call it a usage
// error.
func (f Flags) Check() error {
	if f.Nodes < 1 || f.Nodes > 64 {
		return errors.New("--nodes must be between 1 and 64")
	}
	if f.HTTPBasePort < 1 || f.HTTPBasePort+f.Nodes > 65535 {
		return errors.New("--http-base-port out of range")
	}
	return nil
}

// Extra runs beside a started federation, after its nodes are listed: it
// prints what it adds and returns how to stop it.
type Extra func(ctx context.Context, ps *Procs, stdout, stderr io.Writer) (stop func(), err error)

// RunConfig is what Run starts.
type RunConfig struct {
	Flags
	Binary        string // the difronte binary every node runs
	AdminPassword string // every node's admin password; empty: each generates one
	// Extra, when set, runs once the federation is up (the dev command's
	// demo check-in call).
	Extra Extra
}

// Run is `difronte testnet`: it starts the authority and the demo coops,
// has the coops apply for qualifications, prints how to log in to every
// node, and keeps them running until ctx ends.
func Run(ctx context.Context, cfg RunConfig, stdout, stderr io.Writer) error {
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Starting a local federation of an authority and %d coop nodes (data in %s)...\n", cfg.Nodes, abs)
	ps, err := StartProcs(ctx, ProcsConfig{
		Binary: cfg.Binary, Nodes: cfg.Nodes, HTTPBasePort: cfg.HTTPBasePort, DataDir: abs,
		AdminPassword: cfg.AdminPassword, Demo: true, Authority: true,
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
	switch {
	case cfg.Extra != nil:
		stop, err := cfg.Extra(ctx, ps, stdout, stderr)
		if err != nil {
			return err
		}
		defer stop()
	case len(ps.Nodes) >= 2:
		fmt.Fprintln(stdout, "\nThe demo check-in call (a terminal that answers by itself) comes with the development build: make testnet.")
	}
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop every node.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping...")
	return nil
}
