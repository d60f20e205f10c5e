package federation

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/testnet/poll"
)

func TestSignalStreams(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mn, err := mocknet.FullMeshLinked(2)
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	a, b := mn.Hosts()[0], mn.Hosts()[1]
	var refused atomic.Int32
	sb := NewSignal(b, SignalLimits{StreamsPerSecond: 1, StreamBurst: 3, FramesPerSecond: 1, FrameBurst: 5, Idle: 2 * time.Second},
		func(c *SignalConn) {
			for {
				f, err := c.Read()
				if err != nil {
					return
				}
				if string(f) == "x" {
					continue // flood frames are read, never answered
				}
				if err := c.Write(append([]byte("echo:"), f...)); err != nil {
					return
				}
			}
		}, func(string, error) { refused.Add(1) })
	defer sb.Close()
	sa := NewSignal(a, SignalLimits{}, func(c *SignalConn) {}, nil)
	defer sa.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := sa.Open(ctx, b.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	if c.Peer() != b.ID().String() {
		t.Fatalf("peer %s", c.Peer())
	}
	if err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read()
	if err != nil || string(got) != "echo:hi" {
		t.Fatalf("echo: %q %v", got, err)
	}
	// A flood of frames past the burst ends the stream.
	for range 10 {
		if c.Write([]byte("x")) != nil {
			break
		}
	}
	n := 0
	for ; n < 20; n++ {
		if _, err := c.Read(); err != nil {
			break
		}
	}
	if n >= 10 {
		t.Fatalf("flooding stream still answered %d frames", n)
	}
	c.Reset()

	// New streams past the per-peer burst are refused.
	if !poll.Wait(5*time.Second, 0, func() bool {
		if refused.Load() != 0 {
			return true
		}
		if c, err := sa.Open(ctx, b.ID().String()); err == nil {
			c.Write([]byte("ping"))
			if _, err := c.Read(); err != nil && !errors.Is(err, io.EOF) {
				// reset by the refusing side
			}
			c.Reset()
		}
		return refused.Load() != 0
	}) {
		t.Fatal("stream flood never refused")
	}
}
