package main

import (
	"context"
	"fmt"
	"io"

	"github.com/difronte/difronte/node"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	out := fs.String("out", "", "backup file to write")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	n, err := node.Backup(*data, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup of %s written to %s (%d bytes).\n", *data, *out, n)
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	data := fs.String("data", "data", "empty data directory to restore into")
	in := fs.String("in", "", "backup file to read")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("%w: --in is required", errUsage)
	}
	if err := node.Restore(*in, *data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s.\n", *in, *data)
	return nil
}
