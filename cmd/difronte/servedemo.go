package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
)

// seedDemo fills a started node, when it is empty, with the demo coop of
// `difronte serve --demo`, and prints one summary of the demo accounts.
// They share the admin's password when one was configured; otherwise one
// password is generated for all of them and printed once, like the
// admin's.
func seedDemo(ctx context.Context, n *node.Node, log *slog.Logger, password string, stdout io.Writer) error {
	var generated string
	res, err := demo.Seed(ctx, n.Care(), n.Own(), n.Auth(), demo.Options{
		Password:  password,
		OnAccount: func(_, pw string) { generated = pw },
	})
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	if res.Skipped {
		return nil
	}
	log.Info("seeded demo coop", "component", "demo", "beneficiaries", res.Beneficiaries,
		"caregivers", res.Caregivers, "terminals", res.Terminals, "offerings", res.Offerings, "accounts", len(res.Accounts))
	// Weeks of check-ins, calls, outcomes and a few cases, so the
	// dashboard shows a coop at work from the first look.
	if esc := n.Escalation(); esc != nil {
		h, err := demo.SeedHistory(ctx, n.Care(), esc, n.Calls(), time.Now(), 1)
		if err != nil {
			return fmt.Errorf("seed demo history: %w", err)
		}
		log.Info("seeded demo history", "component", "demo", "checkins", h.Windows, "missed", h.Missed,
			"calls", h.Calls, "outcomes", h.Outcomes, "cases", h.Cases)
	}
	printDemoAccounts(stdout, n.Auth(), res.Accounts, generated)
	return nil
}

// printDemoAccounts lists the demo accounts with their roles and the
// password they share: generated, or else the admin's.
func printDemoAccounts(w io.Writer, accounts *auth.Service, usernames []string, generated string) {
	if len(usernames) == 0 {
		return
	}
	if generated != "" {
		fmt.Fprintf(w, "Created %d demo accounts, all with the password %s (write it down: it is not shown again):\n", len(usernames), generated)
	} else {
		fmt.Fprintf(w, "Created %d demo accounts, all with the admin's password:\n", len(usernames))
	}
	for _, u := range usernames {
		role := ""
		if a, ok := accounts.Get(u); ok {
			role = string(a.Role)
		}
		fmt.Fprintf(w, "  %-16s %s\n", u, role)
	}
}

// gatedListener accepts no connection until open is called: a demo node
// seeds after it started, and nobody may see it half seeded. Connections
// wait in the kernel's backlog meanwhile.
type gatedListener struct {
	net.Listener
	opened, closed      chan struct{}
	openOnce, closeOnce sync.Once
}

func listenGated(addr string) (*gatedListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", node.ErrHTTPListen, addr, err)
	}
	return &gatedListener{Listener: ln, opened: make(chan struct{}), closed: make(chan struct{})}, nil
}

func (l *gatedListener) open() { l.openOnce.Do(func() { close(l.opened) }) }

func (l *gatedListener) Accept() (net.Conn, error) {
	select {
	case <-l.opened:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	return l.Listener.Accept()
}

func (l *gatedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}
