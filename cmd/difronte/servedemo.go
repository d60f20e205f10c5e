package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/node"
)

// seedDemo fills a started node, when it is empty, with the demo coop of
// `difronte serve --demo`. The demo accounts share the admin's password
// when one was configured; otherwise one password is generated for all of
// them and handed to told, like the admin's.
func seedDemo(ctx context.Context, n *node.Node, log *slog.Logger, password string, told func(username, password string)) error {
	res, err := demo.Seed(ctx, n.Care(), n.Own(), n.Auth(), demo.Options{
		Password: password,
		OnAccount: func(username, password string) {
			if password != "" {
				told(username, password)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	if !res.Skipped {
		log.Info("seeded demo coop", "component", "demo", "beneficiaries", res.Beneficiaries,
			"caregivers", res.Caregivers, "terminals", res.Terminals, "offerings", res.Offerings, "accounts", len(res.Accounts))
	}
	return nil
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
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
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
