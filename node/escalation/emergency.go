package escalation

import (
	"context"
	"fmt"
	"slices"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// EmergencyNumber is the European emergency number, answered in Italy by
// the NUE 112 centres.
const EmergencyNumber = "112"

// Card is what the caregiver reads out to the emergency operator.
type Card struct {
	Case         string   `json:"case"`
	Number       string   `json:"number"`
	Name         string   `json:"name"`
	Address      string   `json:"address"`
	Municipality string   `json:"municipality"`
	BirthYear    int      `json:"birth_year,omitempty"`
	Phone        string   `json:"phone,omitempty"`
	Facts        []string `json:"facts"` // fragility codes
	Notes        string   `json:"notes,omitempty"`
	Kind         string   `json:"kind"`
	Urgency      string   `json:"urgency"`
}

// Emergency returns the card for a case with the emergency action. It is
// the only place escalation shows the address, and only to someone who may
// see the beneficiary; the read is audited.
func (s *Service) Emergency(ctx context.Context, a auth.Actor, caseID string) (Card, error) {
	c, ok := s.cases.Get(caseID)
	if !ok {
		return Card{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Card{}, s.deny(ctx, a, "case", caseID, "emergency card")
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, c.Beneficiary)
	if !ok {
		return Card{}, problem.ErrNotFound
	}
	s.cfg.Audit.Note(s.event(a, "read", "emergency_card", caseID, ""))
	return Card{Case: c.ID, Number: EmergencyNumber, Name: p.Name, Address: p.Address, Municipality: p.Municipality,
		BirthYear: p.BirthYear, Phone: p.Phone, Facts: slices.Clone(p.Fragility), Notes: p.Notes, Kind: c.Kind, Urgency: c.Urgency}, nil
}

// EmergencyCalled records that the caregiver called 112 for the case.
func (s *Service) EmergencyCalled(ctx context.Context, a auth.Actor, caseID string) (Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(caseID)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Case{}, s.deny(ctx, a, "case", caseID, "emergency called")
	}
	i := slices.IndexFunc(c.Actions, func(x Action) bool { return x.Kind == ActEmergency })
	if i < 0 {
		c.Actions = append(c.Actions, Action{Kind: ActEmergency, State: ActionPending})
		i = len(c.Actions) - 1
	}
	if c.Actions[i].State == ActionDone {
		return c, nil
	}
	c.Actions[i].State, c.Actions[i].DoneAt, c.Actions[i].DoneBy = ActionDone, s.now(), a.Username
	s.step(ctx, &c, a, "emergency_called", EmergencyNumber)
	s.tellAdmins(ctx, &c, "emergency_called")
	if err := s.saveCase(ctx, &c); err != nil {
		return Case{}, fmt.Errorf("emergency called: %w", err)
	}
	return c, nil
}
