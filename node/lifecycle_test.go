package node

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
)

func TestLifecycleClosesInReverse(t *testing.T) {
	var l lifecycle
	var order []string
	for _, name := range []string{"store", "federation", "http"} {
		l.add(name, func() error {
			order = append(order, name)
			if name == "federation" {
				return errors.New("boom")
			}
			return nil
		})
	}
	err := l.close()
	if want := []string{"http", "federation", "store"}; !slices.Equal(order, want) {
		t.Fatalf("closed %v, want %v", order, want)
	}
	if err == nil || !strings.Contains(err.Error(), "close federation: boom") {
		t.Fatalf("error %v", err)
	}
	if l.close() != nil || len(order) != 3 {
		t.Fatal("a second close closed again")
	}
}

// A start that fails half-way (here: the HTTP address, the last step)
// closes what it opened: the store's lock is released and the same data
// directory starts again.
func TestFailedStartClosesWhatItOpened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := Config{DataDir: dir, AdminPassword: "admin-password-1", Argon: auth.Params{Memory: 64, Time: 1, Threads: 1},
		P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, MembersAddr: "127.0.0.1:0", MembersProfile: "lan", HTTPAddr: "127.0.0.1:bad"}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err == nil {
		n.Close()
		t.Fatal("started on a bad HTTP address")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPListener = ln
	n, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("the data directory of a failed start: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}
