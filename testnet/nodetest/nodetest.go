package nodetest

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
)

// AdminPassword is the first admin's password on every node the rig
// starts without one of its own.
const AdminPassword = "admin-password-1"

// loopback is where a node listens for libp2p when the test gives it no
// host and no address: TCP on 127.0.0.1, so nothing leaves the machine
// (the node turns port mapping and relays off for a loopback-only host).
const loopback = "/ip4/127.0.0.1/tcp/0"

// withDefaults fills what the test left unset in cfg: a fresh data
// directory (unless it brings a store), cheap password hashing, the
// admin password, an HTTP listener on 127.0.0.1 and, for a federated
// node, libp2p and membership on loopback.
func withDefaults(tb testing.TB, cfg node.Config) node.Config {
	tb.Helper()
	if cfg.DataDir == "" && cfg.Store == nil {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.Argon == (auth.Params{}) {
		cfg.Argon = auth.Params{Memory: 64, Time: 1, Threads: 1}
	}
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = AdminPassword
	}
	if cfg.HTTPListener == nil && cfg.HTTPAddr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		cfg.HTTPListener = ln
	}
	if cfg.NoFederation {
		return cfg
	}
	if cfg.P2PHost == nil && len(cfg.P2PListen) == 0 {
		cfg.P2PListen = []string{loopback}
	}
	if cfg.MembersAddr == "" {
		cfg.MembersAddr = "127.0.0.1:0"
	}
	return cfg
}

// Start starts a node per cfg, with the rig's defaults for what each
// leaves unset, and returns them once every one is ready. The nodes
// start in parallel (a start costs hundreds of milliseconds), so a node
// that bootstraps from another belongs in a later call. Each node is
// closed when the test ends.
func Start(tb testing.TB, cfgs ...node.Config) []*node.Node {
	tb.Helper()
	nodes := make([]*node.Node, len(cfgs))
	for i, cfg := range cfgs {
		cfg = withDefaults(tb, cfg)
		n, err := node.New(cfg)
		if err != nil {
			if cfg.HTTPListener != nil {
				cfg.HTTPListener.Close()
			}
			tb.Fatalf("node %d: %v", i, err)
		}
		tb.Cleanup(func() { n.Close() })
		nodes[i] = n
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.Start(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("start node %d: %v", i, err)
		}
	}
	return nodes
}
