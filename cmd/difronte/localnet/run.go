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

// DefaultHTTPBasePort puts the authority's web UI on 8090 and the coops'
// on 8091 and up: clear of `difronte serve`'s (and `make run`'s) 8080, so
// a testnet and a node of one's own run side by side.
const DefaultHTTPBasePort = 8090

// HTTPPorts is the port plan of a federation on base (ProcsConfig's
// HTTPBasePort): the authority's web UI port and coop node i's at
// coops[i-1].
func HTTPPorts(base, nodes int) (authority int, coops []int) {
	for i := 1; i <= nodes; i++ {
		coops = append(coops, base+i)
	}
	return base, coops
}

// Register defines the flags on fs with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.Nodes, "nodes", 3, "number of coop nodes")
	fs.IntVar(&f.HTTPBasePort, "http-base-port", DefaultHTTPBasePort, "web UI ports: the authority node's is 127.0.0.1:P, coop node i's 127.0.0.1:P+i")
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
	auth, coops := HTTPPorts(cfg.HTTPBasePort, cfg.Nodes)
	fmt.Fprintf(stdout, "Starting a local federation (data in %s): the authority's web UI on 127.0.0.1:%d, %d coop nodes' on 127.0.0.1:%d..%d...\n",
		abs, auth, cfg.Nodes, coops[0], coops[len(coops)-1])
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
	fmt.Fprintln(stdout, "  the authority, which qualifies the coops:")
	fmt.Fprintf(stdout, "  %-28s %s   %s / %s (officer: the console is at %s/authority)\n", a.Name, a.URL, officer.Username, officer.Password, a.URL)
	fmt.Fprintln(stdout, "  the coop nodes:")
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
