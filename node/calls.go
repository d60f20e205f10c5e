package node

import (
	"context"
	"fmt"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
)

// CallsConfig configures check-in calls: the ICE servers handed to
// browsers, and the embedded TURN server.
type CallsConfig struct {
	ICE calls.ICEConfig
	// TURNListen runs the embedded TURN server on this UDP host:port.
	TURNListen string
	// TURNRelayIP is the address TURN allocates relays on (default: the
	// host of TURNListen).
	TURNRelayIP string
	// TURNAllow lists CIDRs TURN may relay to although they are loopback or
	// private (a LAN-only deployment, tests).
	TURNAllow []string
	// Signal bounds what one peer node may ask of the signal protocol.
	Signal federation.SignalLimits
}

// directory lets calls read the private registry as the node itself.
type directory struct{ n *Node }

var system = auth.Actor{Username: "system:calls", Role: auth.Admin}

func (d directory) Beneficiary(id string) (calls.Person, bool) {
	b, err := d.n.care.Beneficiary(context.Background(), system, id)
	if err != nil || b.Archived {
		return calls.Person{}, false
	}
	return calls.Person{ID: b.ID, Name: b.Name, Caregivers: b.Caregivers}, true
}

func (d directory) Caregiver(id string) (calls.Person, bool) {
	c, err := d.n.care.Caregiver(context.Background(), system, id)
	if err != nil || c.Archived {
		return calls.Person{}, false
	}
	return calls.Person{ID: c.ID, Name: c.Name}, true
}

func (d directory) TerminalBeneficiary(id string) (string, bool) {
	t, err := d.n.care.Terminal(context.Background(), system, id)
	if err != nil || t.Archived || t.Beneficiary == "" {
		return "", false
	}
	return t.Beneficiary, true
}

// signalRemote opens signal streams for calls.
type signalRemote struct{ s *federation.Signal }

func (r signalRemote) Open(ctx context.Context, p string) (calls.Stream, error) {
	return r.s.Open(ctx, p)
}

// startCalls opens the calls service and, with a federation, serves the
// signal protocol; the TURN server starts here too.
func (n *Node) startCalls(ctx context.Context) error {
	svc, err := calls.Open(ctx, calls.Config{
		Store: n.store.Namespace("/calls"), Audit: n.audit, Dir: directory{n}, Key: n.key, PeerID: n.peerID,
		Now: n.cfg.Now, Logger: n.log, ICE: n.cfg.Calls.ICE, OnEvent: n.callEvent,
	})
	if err != nil {
		return fmt.Errorf("calls: %w", err)
	}
	n.calls = svc
	var sig *federation.Signal
	// The service ends its calls (which ends their streams) before the
	// signal protocol waits for its handlers.
	n.closers = append(n.closers, func() error {
		err := svc.Close()
		if sig != nil {
			sig.Close()
		}
		return err
	})
	if n.fed != nil {
		sig = federation.NewSignal(n.fed.f.Host(), n.cfg.Calls.Signal, func(c *federation.SignalConn) { svc.ServeStream(c) },
			func(peer string, why error) {
				n.log.Info("signal stream refused", "component", "calls", "remote", peer, "err", why)
			})
		svc.SetRemote(signalRemote{sig})
	}
	if n.cfg.Calls.TURNListen != "" {
		ts, err := calls.StartTURN(calls.TURNConfig{
			Listen: n.cfg.Calls.TURNListen, RelayIP: n.cfg.Calls.TURNRelayIP, Secret: n.cfg.Calls.ICE.TURNSecret,
			Allow: n.cfg.Calls.TURNAllow, Logger: n.log,
		})
		if err != nil {
			return fmt.Errorf("turn: %w", err)
		}
		n.closers = append(n.closers, ts.Close)
	}
	return nil
}

// Calls returns the calls service.
func (n *Node) Calls() *calls.Service { return n.calls }
