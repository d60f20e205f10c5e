package requests

import (
	"context"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// NewOffer is the body of POST /api/v1/requests/{id}/offers.
type NewOffer struct {
	Price      float64 `json:"price"`
	Unit       string  `json:"unit"`
	Start      string  `json:"start"`
	Conditions string  `json:"conditions"`
	ValidUntil string  `json:"valid_until"`
}

// inboxFor returns an open inbox request a provider may answer.
func (s *Service) inboxFor(ctx context.Context, a auth.Actor, id string) (Request, error) {
	if !IsProvider(a) {
		return Request{}, problem.ErrForbidden
	}
	r, ok := s.inbox.Get(id)
	if !ok {
		return Request{}, s.denied(ctx, a, "request", id)
	}
	if r.State != StateOpen && r.State != StateOffered {
		return Request{}, conflict("request_"+r.State, "the request is "+r.State)
	}
	return r, nil
}

// MakeOffer answers a received request with an offer, sent to the
// citizen's home node.
func (s *Service) MakeOffer(ctx context.Context, a auth.Actor, id string, in NewOffer) (Offer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.inboxFor(ctx, a, id)
	if err != nil {
		return Offer{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	o := Offer{ID: newID("of"), Request: r.ID, Provider: s.cfg.Self, Price: in.Price, Unit: in.Unit, Start: in.Start,
		Conditions: in.Conditions, ValidUntil: in.ValidUntil, State: StateOpen, Created: now}
	if f := checkOffer(o); f != "" {
		return Offer{}, problem.Invalid(map[string]string{f: "invalid"})
	}
	if o.ValidUntil < now.Format("2006-01-02") {
		return Offer{}, problem.Invalid(map[string]string{"valid_until": "in_the_past"})
	}
	r.Offers = append(r.Offers, o)
	r.State, r.Updated = StateOffered, now
	if err := s.inOneWrite(ctx,
		func(tx *store.Tx) error { return s.inbox.PutTx(ctx, tx, r) },
		func(tx *store.Tx) error { return s.queueTx(ctx, tx, r.Home, MsgOffer, r.ID, wireOffer{Offer: o}) },
		func(tx *store.Tx) error { return s.recordTx(ctx, tx, a, audit.Create, "offer", o.ID, "request "+r.ID) },
	); err != nil {
		return Offer{}, err
	}
	return o, nil
}

// Decline answers a received request with a reason.
func (s *Service) Decline(ctx context.Context, a auth.Actor, id, reason string) (Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.inboxFor(ctx, a, id)
	if err != nil {
		return Request{}, err
	}
	if reason == "" || schema.TextFault(reason, maxReason, true) != "" {
		return Request{}, problem.Invalid(map[string]string{"reason": "invalid"})
	}
	r.State, r.Reason, r.Updated = StateDeclined, reason, s.cfg.Clock.Now().UTC()
	withdrawOpen(r.Offers)
	if err := s.inOneWrite(ctx,
		func(tx *store.Tx) error { return s.inbox.PutTx(ctx, tx, r) },
		func(tx *store.Tx) error {
			return s.queueTx(ctx, tx, r.Home, MsgDecline, r.ID, wireDecline{Reason: reason})
		},
		func(tx *store.Tx) error { return s.recordTx(ctx, tx, a, audit.Update, "request", r.ID, "decline") },
	); err != nil {
		return Request{}, err
	}
	return r, nil
}
