package workshop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

// Transition is a request to move a terminal.
type Transition struct {
	To        string            `json:"to"`
	Checklist map[string]string `json:"checklist"`
}

// Move moves terminal id along the table, recording the step's checklist
// with who and when. Refusals are 409 with a catalogue code.
func (s *Service) Move(ctx context.Context, a auth.Actor, id string, tr Transition) (View, error) {
	if err := s.allow(ctx, a, "terminal", id, "move", workers...); err != nil {
		return View{}, err
	}
	defer s.changed(ctx) // after the unlock: the figures read the registry again
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.reg.Terminal(ctx, a, id)
	if err != nil {
		return View{}, err
	}
	now := s.clk.Now().UTC()
	if err := CheckMove(t.State, tr.To, tr.Checklist, now); err != nil {
		return View{}, err
	}
	cl := map[string]string{}
	for k, v := range tr.Checklist {
		cl[k] = strings.TrimSpace(v)
	}
	ben, setBen := "", false
	switch {
	case tr.To == "delivered":
		ben, setBen = cl["beneficiary"], true
	case tr.To == "ready" || t.State == "pickup":
		// Back from a failed delivery, or out of a home: the device
		// serves no one until it is delivered again.
		setBen = true
	}
	from := t.State
	t, err = s.reg.Move(ctx, a, id, from, tr.To, ben, setBen)
	if err != nil {
		return View{}, err
	}
	d := s.device(id)
	d.Steps = append(d.Steps, Step{From: from, To: tr.To, Checklist: cl, By: a.Username, At: now})
	if a.Role == auth.Refurbisher {
		d.Assigned = a.Username
	}
	if err := s.devices.Put(ctx, d); err != nil {
		return View{}, fmt.Errorf("store device: %w", err)
	}
	return s.view(t, d), nil
}

// Take assigns a terminal to the worker asking.
func (s *Service) Take(ctx context.Context, a auth.Actor, id string) (View, error) {
	if err := s.allow(ctx, a, "terminal", id, "take", workers...); err != nil {
		return View{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.reg.Terminal(ctx, a, id)
	if err != nil {
		return View{}, err
	}
	d := s.device(id)
	d.Assigned = a.Username
	if err := s.devices.Put(ctx, d); err != nil {
		return View{}, fmt.Errorf("store device: %w", err)
	}
	if err := s.record(ctx, a, audit.Update, "workshop_device", id, "take"); err != nil {
		return View{}, err
	}
	return s.view(t, d), nil
}

// View is a terminal as the workshop shows it.
type View struct {
	ID          string    `json:"id"`
	Label       string    `json:"label"`
	Model       string    `json:"model"`
	State       string    `json:"state"`
	Beneficiary string    `json:"beneficiary,omitempty"`
	Since       time.Time `json:"since"`
	Device
	Warnings []string `json:"warnings"`
	// Next are the moves allowed from the state, with their checklists.
	Next []NextMove `json:"next"`
}

// NextMove is one allowed move and what it records.
type NextMove struct {
	To        string `json:"to"`
	Back      bool   `json:"back"`
	Checklist []Item `json:"checklist"`
}

func (s *Service) view(t Terminal, d Device) View {
	v := View{ID: t.ID, Label: t.Label, Model: t.Model, State: t.State, Beneficiary: t.Beneficiary, Since: t.Since(), Device: d, Warnings: []string{}}
	v.Terminal = t.ID
	if d.Report != nil {
		v.Warnings = d.Report.Warnings()
	}
	for _, to := range Next(t.State) {
		v.Next = append(v.Next, NextMove{To: to, Back: backStep(t.State, to), Checklist: nonNil(Checklist(t.State, to))})
	}
	v.Steps = nonNil(v.Steps)
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Device returns a terminal's workshop view; the read is audited (the
// intake names the donor).
func (s *Service) Device(ctx context.Context, a auth.Actor, id string) (View, error) {
	if err := s.allow(ctx, a, "workshop_device", id, "read", workers...); err != nil {
		return View{}, err
	}
	t, err := s.reg.Terminal(ctx, a, id)
	if err != nil {
		return View{}, err
	}
	_ = s.record(ctx, a, audit.Read, "workshop_device", id, "")
	return s.view(t, s.device(id)), nil
}

// WorkStates are the states in which a device waits for the workshop.
var WorkStates = []string{"recovered", "wiping", "installing", "configuring", "testing", "ready", "pickup"}

// QueueItem is a device waiting in the queue.
type QueueItem struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	Model    string    `json:"model"`
	Since    time.Time `json:"since"`
	Assigned string    `json:"assigned,omitempty"`
	Warnings []string  `json:"warnings"`
}

// QueueStep is the devices waiting for one step, oldest first.
type QueueStep struct {
	State string      `json:"state"`
	Items []QueueItem `json:"items"`
}

// Queue is the work queue: for each workshop state, the devices in it,
// the longest waiting first; mine keeps those assigned to the actor.
func (s *Service) Queue(ctx context.Context, a auth.Actor, mine bool) ([]QueueStep, error) {
	if err := s.allow(ctx, a, "workshop_queue", "", "list", workers...); err != nil {
		return nil, err
	}
	ts, err := s.reg.Terminals(ctx, a)
	if err != nil {
		return nil, err
	}
	by := map[string][]QueueItem{}
	for _, t := range ts {
		if t.Archived || !slices.Contains(WorkStates, t.State) {
			continue
		}
		d := s.device(t.ID)
		if mine && d.Assigned != a.Username {
			continue
		}
		it := QueueItem{ID: t.ID, Label: t.Label, Model: t.Model, Since: t.Since(), Assigned: d.Assigned, Warnings: []string{}}
		if d.Report != nil {
			it.Warnings = d.Report.Warnings()
		}
		by[t.State] = append(by[t.State], it)
	}
	out := make([]QueueStep, 0, len(WorkStates))
	for _, st := range WorkStates {
		items := nonNil(by[st])
		slices.SortStableFunc(items, func(x, y QueueItem) int { return x.Since.Compare(y.Since) })
		out = append(out, QueueStep{State: st, Items: items})
	}
	_ = s.record(ctx, a, audit.List, "workshop_queue", "", "")
	return out, nil
}
