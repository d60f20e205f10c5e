package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
)

// runAdmin handles "admin reset-password": on the node's own machine,
// with the node stopped, it gives an account (the admin by default) a new
// password, ends its sessions and audits the reset.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const form = "difronte admin reset-password [--data DIR] [--user NAME]"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(stderr, "Usage: %s\n\nRun 'difronte admin reset-password --help' for its flags.\n", form)
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "reset-password" {
		return fmt.Errorf("%w: the admin command is: %s", errUsage, form)
	}
	fs := newFlagSet("admin reset-password", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	user := fs.String("user", "admin", "account whose password is reset")
	coop := fs.String("coop-name", "Cooperativa", "name of the coop, which the password must not be built on")
	pwFile := fs.String("password-file", "", "file holding the new password; without it DIFRONTE_ADMIN_PASSWORD, else DIFRONTE_ADMIN_PASSWORD_FILE, else a generated one, printed once")
	withEnvOnly(fs, envVar{"DIFRONTE_ADMIN_PASSWORD", "the new password, when --password-file is not given"})
	err := parseEnv(fs, args[1:], map[string]string{"password-file": "DIFRONTE_ADMIN_PASSWORD_FILE"})
	if err != nil {
		return err
	}
	// The flag on the command line first, then the environment in the
	// order serve reads it.
	var pw string
	if given(fs, "password-file") {
		pw, err = readPasswordFile("--password-file", *pwFile)
	} else {
		pw, err = adminPassword()
	}
	if err != nil {
		return err
	}
	generated := pw == ""
	if generated {
		pw = auth.NewPassword()
	}
	err = node.ResetPassword(ctx, *data, *coop, *user, pw)
	if errors.Is(err, auth.ErrWeakPassword) {
		return fmt.Errorf("%w: new password refused: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Password of %q reset; its sessions are ended and the audit log records the reset.\n", *user)
	if generated {
		fmt.Fprintf(stdout, "  username: %s\n  password: %s\nWrite the password down: it is not shown again.\n", *user, pw)
	}
	return nil
}

// given reports whether flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
