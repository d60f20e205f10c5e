package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/demo"
)

// runChild is a node in this process: it loads data, or serves until
// SIGTERM, printing "serving on URL" like difronte serve.
func runChild(dir string, stock, fed, loadOnly bool, nBen, nOff int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The runtime settings of difronte serve (cmd/difronte/serve.go): a
	// soft memory limit of 192 MiB, and start-up garbage returned to the OS
	// once the background start-up work has settled. Without them the
	// child's heap shows garbage that serve does not keep.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
	cfg := node.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", AdminPassword: password, StockBadger: stock, NoFederation: !fed,
		P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, MembersAddr: "127.0.0.1:0"}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return err
	}
	defer n.Close()
	if loadOnly {
		return load(ctx, n, nBen, nOff)
	}
	go func() {
		select {
		case <-n.Settled():
			debug.FreeOSMemory()
		case <-ctx.Done():
		}
	}()
	fmt.Printf("Difronte node serving on %s\n", n.URL())
	select {
	case <-ctx.Done():
	case err = <-n.Done():
	}
	return err
}

// load writes records through the services (validation, synced store,
// audit) from several goroutines, as concurrent users would.
func load(ctx context.Context, n *node.Node, nBen, nOff int) error {
	admin := auth.Actor{Username: "admin", Role: auth.Admin, Remote: "bench"}
	bs, os := demo.Beneficiaries(1, nBen), demo.Offerings(2, nOff)
	const workers = 16
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(bs); i += workers {
				if _, err := n.Care().CreateBeneficiary(ctx, admin, bs[i]); err != nil {
					errc <- err
					return
				}
			}
			for i := w; i < len(os); i += workers {
				if _, err := n.Own().Import(ctx, admin, os[i]); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}
