package federation

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/stream"
)

// MembersProtocol is how a node learns a peer's membership (memberlist)
// address from the libp2p connection it already has: bootstrap peers are
// given as libp2p multiaddrs only, and membership follows the data links.
const MembersProtocol = "/difronte/members/1"

// membersExchange has no request: the server answers with its address as
// soon as the stream opens.
var membersExchange = stream.Exchange{Protocol: MembersProtocol, Name: "members",
	Framing: stream.Line, MaxResponse: 128, Timeout: 5 * time.Second}

// serveMembersAddr answers MembersProtocol requests with addr() as one
// "host:port" line. The address is not secret: joining still needs the
// federation secret.
func serveMembersAddr(h host.Host, addr func() string) {
	membersExchange.Serve(h, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return []byte(addr()), nil
	}, nil)
}

// fetchMembersAddr asks p for its membership address.
func fetchMembersAddr(ctx context.Context, h host.Host, p peer.ID) (string, error) {
	line, err := membersExchange.Call(ctx, h, p, nil)
	if err != nil {
		return "", err
	}
	addr := strings.TrimSpace(string(line))
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("members address of %s: %w", p, err)
	}
	return addr, nil
}
