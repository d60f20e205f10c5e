package contacts

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/workers"
)

// Ask is the family's request to meet one worker: who may see the family
// request may ask. profile is "publisher/id" or the profile's id alone.
// The family's contacts must be on the request: they go to the coop only
// if the worker accepts.
func (s *Service) Ask(ctx context.Context, a auth.Actor, request, profile, message string) (Contact, error) {
	r, err := s.cfg.Families.Get(ctx, a, request)
	if err != nil {
		return Contact{}, err
	}
	f := map[string]string{}
	p, ok := s.profile(profile)
	if !ok {
		f["profile"] = "is not a profile shown on this node"
	}
	if code := checkMessage(message); code != "" {
		f["message"] = code
	}
	fam := Person{Name: r.ContactName, Phone: r.ContactPhone, Email: r.ContactEmail}
	if checkPerson(fam) != "" {
		f["contact"] = "the request needs the family's name and a phone or e-mail, shared with the worker only if she accepts"
	}
	if err := problem.Invalid(f); err != nil {
		return Contact{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.asked.Filter(func(c *Contact) bool { return c.Request == request && c.Profile == p.ID && c.Peer == p.Publisher }) {
		if old.State == StateDeclined {
			return Contact{}, problem.New(http.StatusConflict, "declined", "the worker has declined this request: the answer is final")
		}
		return Contact{}, problem.New(http.StatusConflict, "already_asked", "this worker has already been asked for this request")
	}
	now := s.cfg.Clock.Now().UTC()
	c := Contact{ID: newID("ct"), Side: SideFamily, Request: request, Owner: r.Owner, Peer: p.Publisher, Profile: p.ID,
		Alias: p.Alias, CoopName: p.CoopName, Need: needOf(r), Message: message, Family: &fam, Created: now}
	s.step(&c, StateSent)
	if err := s.asked.Put(ctx, c); err != nil {
		return Contact{}, err
	}
	if err := s.queue(ctx, c.Peer, MsgAsk, c.ID, wireAsk{Profile: c.Profile, Need: c.Need, Message: message, Created: now}); err != nil {
		return Contact{}, err
	}
	return c, s.record(ctx, a, audit.Create, "worker_contact", c.ID, "request "+request)
}

// needOf is what the coop is told of r: no notes, no budget, no contact.
func needOf(r families.Request) Need {
	return Need{Work: r.Work, HoursPerWeek: r.HoursPerWeek, LiveIn: r.LiveIn, Languages: slices.Clone(r.Languages),
		Municipality: r.Municipality, StartDate: r.StartDate}
}

func (s *Service) profile(ref string) (workers.Profile, bool) {
	if s.cfg.Profiles == nil {
		return workers.Profile{}, false
	}
	if pub, id, ok := strings.Cut(ref, "/"); ok {
		return s.cfg.Profiles.Get(pub, id)
	}
	return s.cfg.Profiles.ByID(ref)
}

// ForRequest lists the contacts of a family request, to whoever may see
// the request, newest first.
func (s *Service) ForRequest(ctx context.Context, a auth.Actor, request string) ([]Contact, error) {
	if _, err := s.cfg.Families.Get(ctx, a, request); err != nil {
		return nil, err
	}
	out := s.asked.Filter(func(c *Contact) bool { return c.Request == request })
	slices.SortFunc(out, func(x, y Contact) int { return y.Created.Compare(x.Created) })
	s.note(a, "worker_contact", request)
	return out, nil
}

// familyContact finds the family side's contact that a message from the
// coop's node peer is about.
func (s *Service) familyContact(peer, id string) (Contact, error) {
	c, ok := s.asked.Get(id)
	if !ok || c.Peer != peer {
		return Contact{}, refusal("unknown_contact")
	}
	if c.State == StateAccepted || c.State == StateDeclined || c.State == StateUnavailable {
		return Contact{}, refusal("contact_closed")
	}
	return c, nil
}

// gotAnswer applies the coop's step to the family's contact: asked, or
// the worker's accept (her contacts) or decline. On an accept the
// family's contacts go to the coop.
func (s *Service) gotAnswer(ctx context.Context, peer, id, state string, worker *Person) error {
	c, err := s.familyContact(peer, id)
	if err != nil {
		return err
	}
	if state == StateAsked && c.State == StateAsked {
		return nil
	}
	if c.State == StateSent && state != StateAsked {
		s.step(&c, StateReceived) // the ask's answer may have been lost
	}
	s.step(&c, state)
	c.Worker = worker
	if state == StateAccepted && c.Family != nil {
		if err := s.queue(ctx, peer, MsgFamily, c.ID, wireFamily{Family: *c.Family}); err != nil {
			return err
		}
	}
	if err := s.asked.Put(ctx, c); err != nil {
		return err
	}
	s.notify(ctx, "contact", c.ID, c.Owner)
	return s.record(ctx, systemActor, audit.Update, "worker_contact", c.ID, state)
}
