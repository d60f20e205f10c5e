package contacts

import (
	"context"
	"net/http"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/workers"
)

// mayAnswer: the coop's admin and its proximity-point operators, who
// manage the workers, see the asks and record the workers' answers.
func mayAnswer(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Operator }

func (s *Service) deny(ctx context.Context, a auth.Actor, id string) error {
	_ = s.record(ctx, a, audit.Denied, "worker_contact", id, "")
	return problem.ErrForbidden
}

// Received lists the asks this coop received, newest first; worker, when
// set, keeps one worker's (her match history with families).
func (s *Service) Received(ctx context.Context, a auth.Actor, worker string) ([]Contact, error) {
	if !mayAnswer(a) {
		return nil, s.deny(ctx, a, "")
	}
	out := s.received.Filter(func(c *Contact) bool { return worker == "" || c.Profile == worker })
	slices.SortFunc(out, func(x, y Contact) int { return y.Created.Compare(x.Created) })
	if s.cfg.Audit != nil {
		s.cfg.Audit.Note(a.Event(audit.List, "worker_contact", worker))
	}
	return out, nil
}

// Get returns one ask the coop received.
func (s *Service) Get(ctx context.Context, a auth.Actor, id string) (Contact, error) {
	if !mayAnswer(a) {
		return Contact{}, s.deny(ctx, a, id)
	}
	c, ok := s.received.Get(id)
	if !ok {
		return Contact{}, problem.ErrNotFound
	}
	s.note(a, "worker_contact", id)
	return c, nil
}

// Answer records the coop's step on an ask: asked (the coop has asked
// the worker), accepted (the worker agrees: her contacts go to the
// family's node) or declined (final; the family is told politely).
func (s *Service) Answer(ctx context.Context, a auth.Actor, id, state string) (Contact, error) {
	if !mayAnswer(a) {
		return Contact{}, s.deny(ctx, a, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.received.Get(id)
	if !ok {
		return Contact{}, problem.ErrNotFound
	}
	if c.State == StateAccepted || c.State == StateDeclined {
		return Contact{}, problem.New(http.StatusConflict, "contact_closed", "the worker has already answered")
	}
	var typ string
	var body any = wireEmpty{}
	switch state {
	case StateAsked:
		if c.State == StateAsked {
			return c, nil
		}
		typ = MsgAsked
	case StateDeclined:
		typ = MsgDecline
	case StateAccepted:
		w, ok := s.cfg.Workers.Record(c.Profile)
		if !ok {
			return Contact{}, problem.ErrNotFound
		}
		p := Person{Name: w.FullName, Phone: w.Phone, Email: w.Email}
		if checkPerson(p) != "" {
			return Contact{}, problem.Invalid(map[string]string{"worker": "the worker's record needs a phone or an e-mail to share"})
		}
		typ, body = MsgAccept, wireAccept{Worker: p}
		if err := s.record(ctx, a, audit.Read, "worker", w.ID, "contacts shared with a family: "+c.ID); err != nil {
			return Contact{}, err
		}
	default:
		return Contact{}, problem.Invalid(map[string]string{"state": "must be asked, accepted or declined"})
	}
	s.step(&c, state)
	if err := s.received.Put(ctx, c); err != nil {
		return Contact{}, err
	}
	if err := s.queue(ctx, c.Peer, typ, c.ID, body); err != nil {
		return Contact{}, err
	}
	return c, s.record(ctx, a, audit.Update, "worker_contact", c.ID, state)
}

// gotAsk files a family's ask for one of this coop's published workers.
func (s *Service) gotAsk(ctx context.Context, peer, id string, b *wireAsk) error {
	if old, ok := s.received.Get(id); ok {
		if old.Peer != peer {
			return refusal("contact_exists")
		}
		return nil
	}
	w, ok := s.cfg.Workers.Record(b.Profile)
	if !ok || w.Status != workers.StatusPublished {
		return refusal("unknown_profile")
	}
	now := s.cfg.Clock.Now().UTC()
	c := Contact{ID: id, Side: SideCoop, Peer: peer, Profile: w.ID, Alias: w.Profile.Alias, Need: b.Need, Message: b.Message, Created: now}
	s.step(&c, StateReceived)
	if err := s.received.Put(ctx, c); err != nil {
		return err
	}
	s.notify(ctx, "contact", id, "")
	return s.record(ctx, systemActor, audit.Create, "worker_contact", id, "received")
}

// gotFamily keeps the family's contacts once the worker accepted.
func (s *Service) gotFamily(ctx context.Context, peer, id string, b *wireFamily) error {
	c, ok := s.received.Get(id)
	if !ok || c.Peer != peer {
		return refusal("unknown_contact")
	}
	if c.State != StateAccepted {
		return refusal("not_accepted")
	}
	fam := b.Family
	c.Family, c.Updated = &fam, s.cfg.Clock.Now().UTC()
	if err := s.received.Put(ctx, c); err != nil {
		return err
	}
	s.notify(ctx, "contact", id, "")
	return s.record(ctx, systemActor, audit.Update, "worker_contact", id, "family contacts received")
}
