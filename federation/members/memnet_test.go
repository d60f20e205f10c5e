package members_test

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// memNet is an in-memory network for memberlist, built on the same idea
// as memberlist.MockNetwork (addresses 127.0.0.1:N, packets over channels,
// streams over net.Pipe) but able to crash a node. MockNetwork cannot: its
// channels are unbuffered and never closed, so once a node stops reading,
// every node that probes or gossips to it blocks for ever and stops
// probing anything else; a crash freezes the federation instead of being
// detected. Here packets are dropped like UDP when the receiver is down or
// its queue is full, and dials to a down node fail at once.
type memNet struct {
	mu    sync.Mutex
	port  int
	nodes map[string]*memTransport
}

func newMemNet() *memNet { return &memNet{nodes: make(map[string]*memTransport)} }

// NewTransport returns a transport with a fresh address.
func (n *memNet) NewTransport() *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.port++
	t := &memTransport{
		net:      n,
		addr:     memAddr("127.0.0.1:" + strconv.Itoa(n.port)),
		packetCh: make(chan *memberlist.Packet, 512),
		streamCh: make(chan net.Conn, 16),
		down:     make(chan struct{}),
	}
	n.nodes[string(t.addr)] = t
	return t
}

func (n *memNet) lookup(addr string) *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodes[addr]
}

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

type memTransport struct {
	net      *memNet
	addr     memAddr
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	downOnce sync.Once
	down     chan struct{}
}

var _ memberlist.NodeAwareTransport = (*memTransport)(nil)

// Kill cuts the node off: it sends and receives nothing more, as if its
// process had died. memberlist.Shutdown also calls it.
func (t *memTransport) Kill() {
	t.downOnce.Do(func() { close(t.down) })
}

func (t *memTransport) isDown() bool {
	select {
	case <-t.down:
		return true
	default:
		return false
	}
}

func (t *memTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	host, port, err := net.SplitHostPort(string(t.addr))
	if err != nil {
		return nil, 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, 0, err
	}
	return net.ParseIP(host), p, nil
}

func (t *memTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *memTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dest := t.net.lookup(a.Addr)
	if dest == nil {
		return now, fmt.Errorf("no route to %s", a.Addr)
	}
	if t.isDown() || dest.isDown() {
		return now, nil // lost, as UDP would lose it
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr, Timestamp: now}
	select {
	case dest.packetCh <- p:
	default: // receive queue full: dropped
	}
	return now, nil
}

func (t *memTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *memTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

var errRefused = errors.New("connection refused")

func (t *memTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dest := t.net.lookup(a.Addr)
	if dest == nil || t.isDown() || dest.isDown() {
		return nil, fmt.Errorf("dial %s: %w", a.Addr, errRefused)
	}
	local, remote := net.Pipe()
	select {
	case dest.streamCh <- remote:
		return local, nil
	default:
		local.Close()
		remote.Close()
		return nil, fmt.Errorf("dial %s: backlog full: %w", a.Addr, errRefused)
	}
}

func (t *memTransport) StreamCh() <-chan net.Conn { return t.streamCh }

func (t *memTransport) Shutdown() error {
	t.Kill()
	// Close streams nobody will accept, so their dialers fail now.
	for {
		select {
		case c := <-t.streamCh:
			c.Close()
		default:
			return nil
		}
	}
}
