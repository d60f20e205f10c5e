package node

import (
	"context"
	"fmt"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/workshop"
)

// workshopTerminals adapts the private registry's terminals to the
// workshop: the actor is the worker's own, so care checks the role and
// audits as for any other change.
type workshopTerminals struct{ care *care.Service }

func toWorkshop(t care.Terminal) workshop.Terminal {
	w := workshop.Terminal{ID: t.ID, Label: t.Label, Model: t.Model, State: t.State, Beneficiary: t.Beneficiary,
		Archived: t.Archived, CreatedAt: t.CreatedAt}
	for _, h := range t.History {
		w.History = append(w.History, workshop.StateStep{State: h.State, At: h.At, By: h.By})
	}
	return w
}

func (r workshopTerminals) Terminal(ctx context.Context, a auth.Actor, id string) (workshop.Terminal, error) {
	t, err := r.care.Terminal(ctx, a, id)
	return toWorkshop(t), err
}

func (r workshopTerminals) Terminals(ctx context.Context, a auth.Actor) ([]workshop.Terminal, error) {
	var out []workshop.Terminal
	for off := 0; ; off += 500 {
		p, err := r.care.ListTerminals(ctx, a, care.Query{Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, t := range p.Items {
			out = append(out, toWorkshop(t))
		}
		if len(p.Items) == 0 || off+len(p.Items) >= p.Total {
			return out, nil
		}
	}
}

func (r workshopTerminals) Create(ctx context.Context, a auth.Actor, label, model string) (workshop.Terminal, error) {
	t, err := r.care.CreateTerminal(ctx, a, care.Terminal{Label: label, Model: model, State: workshop.States[0]})
	return toWorkshop(t), err
}

func (r workshopTerminals) Move(ctx context.Context, a auth.Actor, id, from, to, beneficiary string, setBeneficiary bool) (workshop.Terminal, error) {
	t, err := r.care.MoveTerminal(ctx, a, id, care.Move{From: from, To: to, Beneficiary: beneficiary, SetBeneficiary: setBeneficiary})
	return toWorkshop(t), err
}

// startWorkshop opens the refurbishment workshop over the registry.
func (n *Node) startWorkshop(ctx context.Context) error {
	svc, err := workshop.Open(ctx, n.store.Namespace("/workshop"), workshopTerminals{n.care}, n.audit, n.cfg.Clock, workshop.Config{})
	if err != nil {
		return fmt.Errorf("workshop: %w", err)
	}
	n.workshop = svc
	return nil
}

// linkWorkshop gives the workshop the federation, once both are open: its
// figures are published in the node's log and the federation's read from
// the replica (the authority's view).
func (n *Node) linkWorkshop(ctx context.Context) error {
	if n.fed == nil || n.workshop == nil {
		return nil
	}
	err := n.workshop.SetFederation(ctx, workshop.Federation{Log: n.fed, Replica: n.fed.Replica(), Self: n.fed.PeerID(), Name: n.cfg.CoopName, Coop: n.view.cat.CoopName})
	if err != nil {
		// Published again at the next change: not a reason to stop.
		n.log.Warn("workshop figures not published", "component", "workshop", "err", err)
	}
	return nil
}

// Workshop returns the refurbishment workshop.
func (n *Node) Workshop() *workshop.Service { return n.workshop }
