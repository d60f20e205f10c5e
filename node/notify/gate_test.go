package notify

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// gate is a listener that drops every connection until it is opened: a
// mail server that is down, on a port nobody else can take meanwhile.
type gate struct {
	net.Listener
	up atomic.Bool
}

func (g *gate) open() { g.up.Store(true) }

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil || g.up.Load() {
			return c, err
		}
		c.Close()
	}
}

// startGatedSMTP runs a plain mailbox behind a closed gate on a loopback
// port and stops it when the test ends.
func startGatedSMTP(t *testing.T, mb *mailbox) *gate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{Listener: l}
	srv := smtp.NewServer(mb)
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(g) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return g
}
