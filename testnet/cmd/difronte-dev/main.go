// Command difronte-dev holds the development tools that the difronte
// binary does not link. `difronte-dev testnet` is `difronte testnet` (the
// same flags, the same local federation of difronte processes, started
// from the difronte binary beside this one) plus the demo check-in call:
// a terminal answered by a pion peer in this process (testnet/calldemo).
//
// `make build` builds it as bin/difronte-dev; `make testnet` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/difronte/difronte/cmd/difronte/localnet"
	"github.com/difronte/difronte/testnet/calldemo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: difronte-dev <command> [flags]

Commands:
  testnet    difronte testnet with the demo check-in call answered by this process

Run 'difronte-dev testnet --help' for its flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "testnet" {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("difronte-dev testnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f localnet.Flags
	f.Register(fs)
	bin := fs.String("bin", besideThis("difronte"), "the difronte binary every node runs")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := f.Check()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "difronte-dev testnet: usage error: %v\n", err)
		return 2
	}
	cfg := localnet.RunConfig{Flags: f, Binary: *bin, AdminPassword: os.Getenv("DIFRONTE_ADMIN_PASSWORD"), Extra: calldemo.Extra}
	if err := localnet.Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "difronte-dev testnet: %v\n", err)
		return 1
	}
	return 0
}

// besideThis is the path of name in this executable's directory
// (bin/difronte beside bin/difronte-dev).
func besideThis(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
}
