package requests

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// side returns the collection a's cases are in and the side a is on.
func (s *Service) side(a auth.Actor) (side string, ok bool) {
	switch {
	case ForCitizen(a):
		return SideCitizen, true
	case IsProvider(a):
		return SideProvider, true
	}
	return "", false
}

// Cases lists the cases a may see, newest first, without their messages.
func (s *Service) Cases(ctx context.Context, a auth.Actor) ([]Case, error) {
	return s.CasesPage(ctx, a, 0, DefaultLimit)
}

// CasesPage is Cases from offset up to limit (a provider's; a citizen
// gets all their own).
func (s *Service) CasesPage(ctx context.Context, a auth.Actor, offset, limit int) ([]Case, error) {
	side, ok := s.side(a)
	if !ok {
		return nil, problem.ErrForbidden
	}
	var out []Case
	if side == SideCitizen {
		out = s.mirror.Filter(func(c *Case) bool { return c.Citizen == a.Citizen() })
		slices.SortFunc(out, func(x, y Case) int { return y.Created.Compare(x.Created) })
	} else {
		out = newestFirst[Case](s.cases, offset, limit)
	}
	for i := range out {
		out[i].Messages = nil
	}
	s.note(a, audit.List, "case", "")
	if out == nil {
		out = []Case{}
	}
	return out, nil
}

// getCase returns the case a may see, unaudited.
func (s *Service) getCase(ctx context.Context, a auth.Actor, id string) (Case, string, error) {
	side, ok := s.side(a)
	var c Case
	if ok && side == SideCitizen {
		c, ok = s.mirror.Get(id)
		ok = ok && c.Citizen == a.Citizen()
	} else if ok {
		c, ok = s.cases.Get(id)
	}
	if !ok {
		return Case{}, "", s.denied(ctx, a, "case", id)
	}
	return c, side, nil
}

// Case returns one case a may see.
func (s *Service) Case(ctx context.Context, a auth.Actor, id string) (Case, error) {
	c, _, err := s.getCase(ctx, a, id)
	if err == nil {
		s.note(a, audit.Read, "case", id)
	}
	return c, err
}

// TransitionRequest is the body of POST /api/v1/cases/{id}/transitions.
type TransitionRequest struct {
	To     string  `json:"to"`
	Reason string  `json:"reason"`
	Price  float64 `json:"price,omitempty"` // a renewal's new price (0: the last one)
	Unit   string  `json:"unit,omitempty"`
	Start  string  `json:"start,omitempty"` // a renewal's period start
}

// apply changes c per t, or says why not.
func apply(c *Case, t TransitionRequest, side string, now string, at func() Change) error {
	from, ok := allowedFrom[t.To]
	if !ok {
		return problem.Invalid(map[string]string{"to": "bad_choice"})
	}
	if schema.TextFault(t.Reason, maxReason, true) != "" {
		return problem.Invalid(map[string]string{"reason": "invalid"})
	}
	if !slices.Contains(from, c.State) {
		return conflict("transition_not_allowed", "a case cannot go from "+c.State+" to "+t.To+"; allowed from: "+strings.Join(from, ", "))
	}
	ch := at()
	ch.From, ch.To, ch.Reason, ch.Side = c.State, t.To, t.Reason, side
	if t.To == ToRenewed {
		last := c.Due[len(c.Due)-1]
		d := Due{From: t.Start, Amount: last.Amount, Unit: last.Unit}
		if d.From == "" {
			d.From = now
		}
		if t.Price > 0 {
			d.Amount = t.Price
		}
		if t.Unit != "" {
			d.Unit = t.Unit
		}
		if !checkDate(d.From) || d.Amount > 1e7 || schema.TextFault(d.Unit, 40, false) != "" {
			return problem.Invalid(map[string]string{"renewal": "invalid"})
		}
		c.Due = append(c.Due, d)
		c.State = CaseActive
	} else {
		c.State = t.To
	}
	c.Timeline = append(c.Timeline, ch)
	return nil
}

// Transition changes a case's state. The provider's change is final and
// sent to the home node; the citizen's is applied to the mirror, marked
// pending, and sent to the provider, whose answer (the case as it holds
// it) replaces the mirror.
func (s *Service) Transition(ctx context.Context, a auth.Actor, id string, t TransitionRequest) (Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, side, err := s.getCase(ctx, a, id)
	if err != nil {
		return Case{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	if err := apply(&c, t, side, now.Format("2006-01-02"), func() Change { return Change{At: now} }); err != nil {
		_ = s.record(ctx, a, audit.Denied, "case", id, "transition "+t.To)
		return Case{}, err
	}
	if side == SideProvider {
		c.Version++
		if err := s.cases.Put(ctx, c); err != nil {
			return Case{}, err
		}
		if err := s.queue(ctx, c.Home, MsgCase, c.Request, snapshot(c)); err != nil {
			return Case{}, err
		}
	} else {
		c.Pending = true
		if err := s.mirror.Put(ctx, c); err != nil {
			return Case{}, err
		}
		if err := s.queue(ctx, c.Provider, MsgTransition, c.Request, wireTransition{Case: c.ID, To: t.To, Reason: t.Reason, Price: t.Price, Unit: t.Unit}); err != nil {
			return Case{}, err
		}
	}
	return c, s.record(ctx, a, audit.Update, "case", id, "transition "+t.To)
}

func snapshot(c Case) wireCase {
	return wireCase{Case: c.ID, Offer: c.Offer, State: c.State, Version: c.Version, Timeline: c.Timeline, Due: c.Due,
		Payments: c.Payments, PaymentLink: c.PaymentLink}
}

// NewMessage is the body of POST /api/v1/cases/{id}/messages.
type NewMessage struct {
	Text       string      `json:"text"`
	Attachment *Attachment `json:"attachment,omitempty"`
}

// Messages returns a case's messages and marks the other side's as read,
// telling the other node.
func (s *Service) Messages(ctx context.Context, a auth.Actor, id string) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, side, err := s.getCase(ctx, a, id)
	if err != nil {
		return nil, err
	}
	s.note(a, audit.Read, "case_messages", id)
	now := s.cfg.Clock.Now().UTC()
	var read []string
	for i := range c.Messages {
		if c.Messages[i].Side != side && c.Messages[i].ReadAt == nil {
			c.Messages[i].ReadAt = &now
			read = append(read, c.Messages[i].ID)
		}
	}
	if len(read) > 0 {
		if err := s.put(ctx, side, c); err != nil {
			return nil, err
		}
		if err := s.queue(ctx, s.other(c, side), MsgRead, c.Request, wireRead{Case: c.ID, Side: side, IDs: read, At: now}); err != nil {
			return nil, err
		}
	}
	return c.Messages, nil
}

// Send adds a message to a case and sends it to the other node.
func (s *Service) Send(ctx context.Context, a auth.Actor, id string, in NewMessage) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, side, err := s.getCase(ctx, a, id)
	if err != nil {
		return Message{}, err
	}
	if f := checkMessage(in.Text, in.Attachment); f != "" {
		_ = s.record(ctx, a, audit.Denied, "case_messages", id, f)
		if f == "attachment_size" {
			return Message{}, problem.New(413, f, "the attachment is empty or over 2 MiB")
		}
		return Message{}, problem.Invalid(map[string]string{"message": f})
	}
	if len(c.Messages) >= 10000 {
		return Message{}, conflict("too_many_messages", "this case holds too many messages")
	}
	m := Message{ID: newID("mg"), Side: side, Author: a.Username, For: a.For, Text: in.Text, Attachment: in.Attachment, At: s.cfg.Clock.Now().UTC()}
	c.Messages = append(c.Messages, m)
	if err := s.put(ctx, side, c); err != nil {
		return Message{}, err
	}
	wm := m
	wm.Author, wm.For = "", ""
	if err := s.queue(ctx, s.other(c, side), MsgMessage, c.Request, wireMessage{Case: c.ID, Message: wm}); err != nil {
		return Message{}, err
	}
	return m, s.record(ctx, a, audit.Create, "case_message", m.ID, "case "+id)
}

func (s *Service) put(ctx context.Context, side string, c Case) error {
	if side == SideCitizen {
		return s.mirror.Put(ctx, c)
	}
	return s.cases.Put(ctx, c)
}

func (s *Service) other(c Case, side string) string {
	if side == SideCitizen {
		return c.Provider
	}
	return c.Home
}

// PaymentRequest is the body of POST /api/v1/cases/{id}/payments: a
// payment (amount) or a payment link, or both.
type PaymentRequest struct {
	Amount float64 `json:"amount,omitempty"`
	Method string  `json:"method,omitempty"`
	Link   string  `json:"link,omitempty"`
}

// Payments is what a case shows about money.
type Payments struct {
	Due      []Due     `json:"due"`
	Payments []Payment `json:"payments"`
	DueTotal float64   `json:"due_total"`
	Paid     float64   `json:"paid"`
	Link     string    `json:"link,omitempty"`
}

func paymentsOf(c Case) Payments {
	p := Payments{Due: c.Due, Payments: c.Payments, Link: c.PaymentLink}
	for _, d := range c.Due {
		p.DueTotal += d.Amount
	}
	for _, x := range c.Payments {
		p.Paid += x.Amount
	}
	return p
}

// CasePayments returns what is due and paid on a case.
func (s *Service) CasePayments(ctx context.Context, a auth.Actor, id string) (Payments, error) {
	c, _, err := s.getCase(ctx, a, id)
	if err != nil {
		return Payments{}, err
	}
	s.note(a, audit.Read, "case_payments", id)
	return paymentsOf(c), nil
}

// RecordPayment records a payment or sets the payment link: the
// provider's side only.
func (s *Service) RecordPayment(ctx context.Context, a auth.Actor, id string, in PaymentRequest) (Payments, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, side, err := s.getCase(ctx, a, id)
	if err != nil {
		return Payments{}, err
	}
	if side != SideProvider {
		_ = s.record(ctx, a, audit.Denied, "case_payments", id, "")
		return Payments{}, problem.ErrForbidden
	}
	switch {
	case in.Amount == 0 && in.Link == "":
		return Payments{}, problem.Invalid(map[string]string{"amount": "required"})
	case in.Amount < 0 || in.Amount > 1e7 || in.Amount != in.Amount:
		return Payments{}, problem.Invalid(map[string]string{"amount": "invalid"})
	case in.Link != "" && checkLink(in.Link) != "":
		return Payments{}, problem.Invalid(map[string]string{"link": "bad_link"})
	case schema.TextFault(in.Method, 40, false) != "":
		return Payments{}, problem.Invalid(map[string]string{"method": "invalid"})
	}
	if in.Link != "" {
		c.PaymentLink = in.Link
	}
	if in.Amount > 0 {
		c.Payments = append(c.Payments, Payment{ID: newID("pa"), Amount: in.Amount, Method: in.Method,
			Receipt: newID("rc"), At: s.cfg.Clock.Now().UTC()})
	}
	c.Version++
	if err := s.cases.Put(ctx, c); err != nil {
		return Payments{}, err
	}
	if err := s.queue(ctx, c.Home, MsgCase, c.Request, snapshot(c)); err != nil {
		return Payments{}, err
	}
	return paymentsOf(c), s.record(ctx, a, audit.Update, "case_payments", id, "")
}

// MethodVoucher is the method of a payment made with a municipal voucher
// the provider redeemed for the case.
const MethodVoucher = "voucher"

// HasCase reports whether this node is the provider of case id.
func (s *Service) HasCase(id string) bool {
	_, ok := s.cases.Get(id)
	return ok
}

// RecordVoucher records on a provider's case the voucher redeemed for it
// (cents, as the voucher counts) as a payment, sent to the citizen's home
// node like any other.
func (s *Service) RecordVoucher(ctx context.Context, a auth.Actor, id, voucher string, cents int64, at time.Time) error {
	if !IsProvider(a) {
		return problem.ErrForbidden
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(id)
	if !ok {
		return s.denied(ctx, a, "case_payments", id)
	}
	c.Payments = append(c.Payments, Payment{ID: newID("pa"), Amount: float64(cents) / 100, Method: MethodVoucher, Receipt: newID("rc"), At: at.UTC()})
	c.Version++
	if err := s.cases.Put(ctx, c); err != nil {
		return err
	}
	if err := s.queue(ctx, c.Home, MsgCase, c.Request, snapshot(c)); err != nil {
		return err
	}
	return s.record(ctx, a, audit.Update, "case_payments", id, "voucher "+voucher)
}
