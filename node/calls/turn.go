package calls

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/pion/turn/v5"
)

// TURNConfig configures the embedded TURN server.
type TURNConfig struct {
	Listen  string // UDP host:port
	RelayIP string // address relays are allocated on; default the Listen host
	Secret  string // shared with ICEConfig.TURNSecret
	Realm   string // default "difronte"
	// Allow lists CIDRs a relay may reach although loopback, private,
	// link-local or unspecified: by default TURN never becomes a way into
	// the coop's own network.
	Allow  []string
	Logger *slog.Logger
}

// TURN is a running embedded TURN server.
type TURN struct {
	srv  *turn.Server
	Addr net.Addr
}

// StartTURN runs a TURN server with short-lived REST credentials (the ones
// ICEConfig hands out) that refuses to relay to internal addresses unless
// allowed.
func StartTURN(c TURNConfig) (*TURN, error) {
	if c.Secret == "" {
		return nil, fmt.Errorf("embedded TURN needs a secret")
	}
	if c.Realm == "" {
		c.Realm = "difronte"
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("turn listen %q: %w", c.Listen, err)
	}
	if c.RelayIP == "" {
		c.RelayIP = host
	}
	relayIP := net.ParseIP(c.RelayIP)
	if relayIP == nil || relayIP.IsUnspecified() {
		return nil, fmt.Errorf("turn relay address %q: want a concrete IP", c.RelayIP)
	}
	allow, err := parseCIDRs(c.Allow)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp4", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("turn listen: %w", err)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "turn")
	perm := func(client net.Addr, peer net.IP) bool {
		ok := RelayAllowed(peer, allow)
		if !ok {
			log.Info("turn relay refused", "client", client.String(), "peer", peer.String())
		}
		return ok
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       c.Realm,
		AuthHandler: turn.LongTermTURNRESTAuthHandler(c.Secret, nil),
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: c.RelayIP},
			PermissionHandler:     perm,
		}},
	})
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("turn server: %w", err)
	}
	return &TURN{srv: srv, Addr: pc.LocalAddr()}, nil
}

// Close stops the server.
func (t *TURN) Close() error { return t.srv.Close() }

// RelayAllowed says whether TURN may relay to ip: public unicast addresses,
// and internal ones only inside allow.
func RelayAllowed(ip net.IP, allow []*net.IPNet) bool {
	for _, n := range allow {
		if n.Contains(ip) {
			return true
		}
	}
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || cgnat.Contains(ip))
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598): as
// internal as a private range.
var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

func parseCIDRs(ss []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("turn allow %q: %w", s, err)
		}
		out = append(out, n)
	}
	return out, nil
}
