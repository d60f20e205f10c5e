// Command difronte runs a Difronte coop node and its tools. It parses flags
// and calls into node and federation, cmd/difronte/demo (serve --demo) and
// cmd/difronte/localnet (testnet); it holds no logic of its own. It links
// no test code: the demo call's pion terminal is the dev command's
// (testnet/cmd/difronte-dev).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// Set by the linker: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

// errUsage marks a usage error: exit status 2.
var errUsage = errors.New("usage error")

func main() {
	// Every command lives within a node's memory budget, not only serve:
	// reindex, import and restore read the whole store. GOMEMLIMIT, when
	// set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run a coop node", runServe},
		{"backup", "write a backup of a stopped node's data (backup verify FILE: check one)", runBackup},
		{"restore", "restore a backup into an empty data directory", runRestore},
		{"testnet", "run a local federation of demo coop nodes on loopback", runTestnet},
		{"reindex", "rebuild a stopped node's catalogue search index", runReindex},
		{"export", "export the federated catalogue (export hsds --out DIR)", runExport},
		{"import", "import HSDS services into the coop's offerings (import hsds FILE)", runImport},
		{"authority", "authority keys (authority keygen --out FILE)", runAuthority},
		{"admin", "reset a forgotten password, node stopped (admin reset-password [--user NAME])", runAdmin},
		{"terminal", "the call terminal's side (terminal probe|setup|run)", runTerminal},
		{"version", "print version, commit and Go version", runVersion},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stderr)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "difronte %s: %v\nRun 'difronte %s --help' for its flags.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "difronte %s: %v\n", c.name, err)
			return 1
		}
	}
	// No full usage on a usage error: the one line, then where to look.
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "difronte: unknown flag %q: flags come after the command (difronte <command> [flags])\n", args[0])
	} else {
		fmt.Fprintf(stderr, "difronte: unknown command %q\n", args[0])
	}
	fmt.Fprintln(stderr, "Run 'difronte --help' for the commands.")
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: difronte <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'difronte <command> --help' for the flags of a command.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	c := commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	fmt.Fprintf(stdout, "difronte %s\ncommit %s\n%s %s/%s\n", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
