package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/difronte/difronte/cmd/difronte/terminal"
)

// runTerminal is `difronte terminal probe|setup|run`, the side that runs on
// a refurbished PC.
func runTerminal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := terminal.Main(ctx, args, stdout, stderr, version)
	if errors.Is(err, terminal.ErrUsage) {
		return fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(err.Error(), terminal.ErrUsage.Error()+": "))
	}
	return err
}
