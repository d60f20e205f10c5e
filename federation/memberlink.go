package federation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// MembersProtocol is how a node learns a peer's membership (memberlist)
// address from the libp2p connection it already has: bootstrap peers are
// given as libp2p multiaddrs only, and membership follows the data links.
const MembersProtocol = "/difronte/members/1"

// ServeMembersAddr answers MembersProtocol requests with addr() as one
// "host:port" line. The address is not secret: joining still needs the
// federation secret.
func ServeMembersAddr(h host.Host, addr func() string) {
	h.SetStreamHandler(MembersProtocol, func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(s, "%s\n", addr())
	})
}

// FetchMembersAddr asks p for its membership address.
func FetchMembersAddr(ctx context.Context, h host.Host, p peer.ID) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, p, MembersProtocol)
	if err != nil {
		return "", fmt.Errorf("open members stream to %s: %w", p, err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(&limited{s, 128}).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read members address of %s: %w", p, err)
	}
	addr := strings.TrimSpace(line)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("members address of %s: %w", p, err)
	}
	return addr, nil
}

// limited reads at most n bytes, then fails: a peer cannot make us buffer
// an endless line.
type limited struct {
	s network.Stream
	n int
}

func (l *limited) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("answer too long")
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.s.Read(b)
	l.n -= n
	return n, err
}
