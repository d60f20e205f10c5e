package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
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
	// RequestWait is the coop's time for calling back a terminal's
	// "Chiamatemi" before it opens a case (default 30 min).
	RequestWait time.Duration
}

// directory lets calls read the private registry as the node itself.
type directory struct{ care *care.Service }

var system = auth.Actor{Username: "system:calls", Role: auth.Admin}

func (d directory) Beneficiary(id string) (calls.Person, bool) {
	b, err := d.care.Beneficiary(context.Background(), system, id)
	if err != nil || b.Archived {
		return calls.Person{}, false
	}
	return calls.Person{ID: b.ID, Name: b.Name, Caregivers: b.Caregivers}, true
}

func (d directory) Caregiver(id string) (calls.Person, bool) {
	c, err := d.care.Caregiver(context.Background(), system, id)
	if err != nil || c.Archived {
		return calls.Person{}, false
	}
	return calls.Person{ID: c.ID, Name: c.Name, Photo: c.Photo}, true
}

func (d directory) TerminalBeneficiary(id string) (string, bool) {
	t, err := d.care.Terminal(context.Background(), system, id)
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

// callEvents hands node/calls's events to escalation: check-ins close
// windows, unanswered calls count towards a missed check-in, answered calls
// can get an outcome, and changed schedules and terminals re-plan the
// check-in timers. Calls start before escalation, and no call can
// happen before the HTTP server and the federation's streams are up, by
// which time es is set.
type callEvents struct {
	es  *escalation.Service
	log *slog.Logger
}

func (c *callEvents) record(ctx context.Context, ev calls.Event) {
	if c.es == nil {
		return
	}
	switch ev.Type {
	case calls.EventScheduleChanged, calls.EventTerminalChanged:
		// The timers follow at once: a check-in agreed a minute ahead is
		// watched a minute ahead.
		if err := c.es.Replan(ctx, ev.Schedule); err != nil {
			c.log.Error("check-ins not planned", "component", "escalation", "type", string(ev.Type), "schedule", ev.Schedule, "err", err)
		}
		return
	}
	err := c.es.Record(ctx, escalation.Event{Type: escalation.EventType(ev.Type), Beneficiary: ev.Beneficiary, Caregiver: ev.Caregiver,
		Call: ev.Call, At: ev.At, Node: ev.Node, Name: ev.Name, Request: ev.Request})
	if err != nil {
		c.log.Error("call event not recorded", "component", "escalation", "type", string(ev.Type), "call", ev.Call, "err", err)
	}
}

// startCalls opens the calls service and, with a federation, serves the
// signal protocol; the TURN server starts here too.
func (n *Node) startCalls(ctx context.Context) error {
	svc, err := calls.Open(ctx, calls.Config{
		Store: n.store.Namespace("/calls"), Audit: n.audit, Dir: directory{n.care}, Key: n.key, PeerID: n.peerID,
		Clock: n.cfg.Clock, Logger: n.log, ICE: n.cfg.Calls.ICE, OnEvent: n.callEvents.record,
		RequestWait: n.cfg.Calls.RequestWait,
	})
	if err != nil {
		return fmt.Errorf("calls: %w", err)
	}
	n.calls = svc
	n.care.SetCallers(svc) // a paired terminal may show its callers' photos
	if n.fed != nil {
		sig := federation.NewSignal(n.fed.Host(), n.cfg.Calls.Signal, func(c *federation.SignalConn) { svc.ServeStream(c) },
			func(peer string, why error) {
				n.log.Info("signal stream refused", "component", "calls", "remote", peer, "err", why)
			})
		svc.SetRemote(signalRemote{sig})
		n.lc.add("signal protocol", func() error { sig.Close(); return nil })
	}
	// Added after the signal protocol: the service ends its calls (which
	// ends their streams) before the protocol waits for its handlers.
	n.lc.add("calls", svc.Close)
	if n.cfg.Calls.TURNListen != "" {
		ts, err := calls.StartTURN(calls.TURNConfig{
			Listen: n.cfg.Calls.TURNListen, RelayIP: n.cfg.Calls.TURNRelayIP, Secret: n.cfg.Calls.ICE.TURNSecret,
			Allow: n.cfg.Calls.TURNAllow, Logger: n.log,
		})
		if err != nil {
			return fmt.Errorf("turn: %w", err)
		}
		n.lc.add("turn", ts.Close)
	}
	return nil
}

// Calls returns the calls service.
func (n *Node) Calls() *calls.Service { return n.calls }
