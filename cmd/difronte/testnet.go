package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/difronte/difronte/cmd/difronte/localnet"
)

// runTestnet runs a local federation of this binary's `serve` processes
// (localnet.Run). The demo check-in call, a pion terminal, is the dev
// command's (testnet/cmd/difronte-dev): this binary links no test peer.
func runTestnet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("testnet", stderr)
	var f localnet.Flags
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	return localnet.Run(ctx, localnet.RunConfig{Flags: f, Binary: bin, AdminPassword: os.Getenv("DIFRONTE_ADMIN_PASSWORD")}, stdout, stderr)
}
