package node

import (
	"context"
	"time"

	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/fleet"
)

// startFleet opens the terminals' heartbeats and health, after calls
// (devices and schedules) and before escalation (which asks it whether a
// terminal switched on).
func (n *Node) startFleet(ctx context.Context) error {
	dir := directory{n.care}
	cs := n.calls
	fs, err := fleet.Open(ctx, fleet.Config{
		Store: n.store.Namespace("/fleet"), Audit: n.audit, Clock: n.cfg.Clock, Logger: n.log.With("component", "fleet"),
		Device: func(cred string) (string, string, error) {
			d, err := cs.Device(cred)
			return d.ID, d.Terminal, err
		},
		Beneficiary: dir.TerminalBeneficiary,
		Terminals:   n.terminalsOf,
		Caregivers: func(ben string) []string {
			p, _ := dir.Beneficiary(ben)
			return p.Caregivers
		},
		Windows: func(ben string, from, to time.Time) []fleet.Window {
			var out []fleet.Window
			for _, o := range calls.Agenda(cs.Schedules(system, ben), from, to) {
				if o.Beneficiary == ben {
					out = append(out, fleet.Window{Start: o.Start, End: o.End})
				}
			}
			return out
		},
		Online: cs.Hub().Online,
		InCall: cs.Hub().InCall,
		LastCall: func(ben string) time.Time {
			var last time.Time
			for _, r := range cs.Records(system, ben) {
				if r.Started.After(last) {
					last = r.Started
				}
			}
			return last
		},
	})
	if err != nil {
		return err
	}
	n.fleet = fs
	return nil
}

// terminalsOf lists the live terminals assigned to a person, read as the
// node itself (care audits the list).
func (n *Node) terminalsOf(ben string) []string {
	var out []string
	for off := 0; ; off += 500 {
		p, err := n.care.ListTerminals(context.Background(), system, care.Query{Offset: off, Limit: 500})
		if err != nil {
			return out
		}
		for _, t := range p.Items {
			if t.Beneficiary == ben && !t.Archived {
				out = append(out, t.ID)
			}
		}
		if len(p.Items) == 0 || off+len(p.Items) >= p.Total {
			return out
		}
	}
}

// Fleet returns the terminals' health service.
func (n *Node) Fleet() *fleet.Service { return n.fleet }

// escPresence is escalation's presence with the agents' heartbeats, so a
// window missed by a PC that did not switch on says so.
type escPresence struct {
	escCalls
	fleet *fleet.Service
}

var _ escalation.Waker = escPresence{}

func (p escPresence) SwitchedOn(ben string, since time.Time) (bool, bool) {
	if p.fleet == nil {
		return false, false
	}
	return p.fleet.SwitchedOn(ben, since)
}
