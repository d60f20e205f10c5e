package main

import (
	"context"
	"fmt"
	"io"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/backup"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return runBackupVerify(args[1:], stdout, stderr)
	}
	fs := newFlagSet("backup", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	out := fs.String("out", "", "backup file to write")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: difronte backup --data DIR --out FILE   (the node stopped)\n       difronte backup verify FILE           (check a backup without restoring it)")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	s, err := node.Backup(*data, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup of %s written to %s (%d bytes) and verified: %d records, audit chain of %d events.\n",
		*data, *out, s.Size, s.Records, s.AuditEvents)
	return nil
}

// runBackupVerify checks one backup file: exit 0 when sound, 1 with the
// reason when not.
func runBackupVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup verify", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: difronte backup verify FILE") }
	if len(args) != 1 || len(args[0]) == 0 || args[0][0] == '-' {
		if err := parse(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: backup verify takes one backup file", errUsage)
	}
	s, err := node.VerifyBackup(args[0])
	if err != nil {
		return err
	}
	describe(stdout, stderr, args[0], s)
	return nil
}

// describe tells what a checked backup holds, and warns about a legacy one.
func describe(stdout, stderr io.Writer, file string, s backup.Summary) {
	if s.Legacy {
		fmt.Fprintf(stdout, "%s: a difronte backup (format %d) of node %s: %d records.\n", file, s.Format, s.Node, s.Records)
		fmt.Fprintf(stderr, "warning: %s\n", backup.LegacyWarning)
		return
	}
	fmt.Fprintf(stdout, "%s: a sound difronte backup (format %d) of node %s, written %s: %d records, audit chain of %d events, checksums verified.\n",
		file, s.Format, s.Node, s.Created.Format("2006-01-02 15:04:05Z07:00"), s.Records, s.AuditEvents)
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
	s, err := node.Restore(*in, *data)
	if err != nil {
		return err
	}
	if s.Cleared {
		fmt.Fprintf(stdout, "Cleared what an interrupted restore had left in %s.\n", *data)
	}
	describe(stdout, stderr, *in, s)
	fmt.Fprintf(stdout, "Restored %s into %s.\n", *in, *data)
	return nil
}
