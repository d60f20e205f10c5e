package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/store"
)

// Errors of the offline commands that open a stopped node's data.
var (
	// ErrNoNode: the data directory holds no node (no identity, no store).
	ErrNoNode = errors.New("no node in this data directory")
	// ErrNodeRunning: a running node holds the store's lock.
	ErrNodeRunning = errors.New("the node is running (it holds the store's lock): stop it first")
)

// ResetPassword sets a new password for account username of the stopped
// node in dataDir, ends the account's sessions and records the reset in
// the audit log under auth.SystemUser, as the first admin's creation is:
// the operator acts on the node's machine, outside any session. The
// password must pass auth.ValidatePassword with the account's username and
// name and coopName as personal words. It is how an operator who lost the
// admin password gets back in: whoever can open the data directory owns
// the node anyway.
func ResetPassword(ctx context.Context, dataDir, coopName, username, password string) error {
	sdir := filepath.Join(dataDir, "store")
	if _, err := os.Stat(filepath.Join(dataDir, KeyFile)); err != nil || store.Empty(sdir) {
		return fmt.Errorf("%w: %s", ErrNoNode, dataDir)
	}
	st, err := store.Open(sdir, store.Options{})
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %s", ErrNodeRunning, dataDir)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	al, err := audit.Open(ctx, st.Namespace("/audit"), clock.Real{}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer al.Close()
	accounts, err := auth.Open(ctx, st.Namespace("/auth"), auth.Config{CoopName: coopName})
	if err != nil {
		return err
	}
	a, ok := accounts.Get(username)
	if !ok {
		return fmt.Errorf("%w: %q", auth.ErrNotFound, username)
	}
	if _, err := accounts.Update(ctx, *a, password); err != nil {
		return err
	}
	return al.Record(ctx, audit.Event{Actor: auth.SystemUser, Action: audit.Update, Kind: "account", Object: username,
		Remote: "cli", Detail: "password reset"})
}
