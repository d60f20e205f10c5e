package main

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestGatedListenerHoldsConnectionsUntilOpen: a demo node answers nobody
// before it is seeded, and Close ends a waiting Accept.
func TestGatedListenerHoldsConnectionsUntilOpen(t *testing.T) {
	l, err := listenGated("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-accepted:
		t.Fatal("accepted before open")
	case <-time.After(100 * time.Millisecond):
	}
	l.open()
	select {
	case s := <-accepted:
		s.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("not accepted after open")
	}

	closed, err := listenGated("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := closed.Accept()
		errc <- err
	}()
	closed.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	l.Close()
}
