package requests

import (
	"context"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// NewRequest is the body of POST /api/v1/requests.
type NewRequest struct {
	Offerings    []string `json:"offerings"`
	For          string   `json:"for"`
	Municipality string   `json:"municipality"`
	Address      string   `json:"address"`
	Start        string   `json:"start"`
	When         string   `json:"when"`
	Notes        string   `json:"notes"`
	Consent      bool     `json:"consent"`
}

// Create records a citizen's request and queues one delivery per provider
// node of the offerings asked for. citizenName is the account's display
// name; an operator acting for a citizen sends the citizen's, never their
// own (Config.DisplayName).
func (s *Service) Create(ctx context.Context, a auth.Actor, in NewRequest, citizenName string) (Request, error) {
	if !ForCitizen(a) {
		return Request{}, problem.ErrForbidden
	}
	if a.For != "" {
		citizenName = ""
		if s.cfg.DisplayName != nil {
			citizenName = s.cfg.DisplayName(a.For)
		}
	}
	if !in.Consent {
		return Request{}, problem.Invalid(map[string]string{"consent": "required"})
	}
	if len(in.Offerings) == 0 || len(in.Offerings) > MaxOfferings {
		return Request{}, problem.Invalid(map[string]string{"offerings": "one_to_five"})
	}
	need := Need{For: in.For, Municipality: in.Municipality, Address: in.Address, Start: in.Start, When: in.When, Notes: in.Notes, CitizenName: citizenName}
	if f := checkNeed(need); f != "" {
		return Request{}, problem.Invalid(map[string]string{f: "invalid"})
	}
	now := s.cfg.Clock.Now().UTC()
	r := Request{ID: s.orderedID("rq"), Home: s.cfg.Self, Citizen: a.Citizen(), Need: need, Consent: true, State: StateOpen, Created: now, Updated: now, Offers: []Offer{}}
	by := map[string][]OfferingRef{}
	var order []string
	for _, ref := range in.Offerings {
		o, ok := s.catalogue(ctx, ref)
		if !ok {
			return Request{}, problem.Invalid(map[string]string{"offerings": "unknown_offering"})
		}
		if slices.ContainsFunc(r.Offerings, func(x OfferingRef) bool { return x.Publisher == o.Publisher && x.ID == o.ID }) {
			return Request{}, problem.Invalid(map[string]string{"offerings": "duplicate"})
		}
		r.Offerings = append(r.Offerings, o)
		if by[o.Publisher] == nil {
			order = append(order, o.Publisher)
		}
		by[o.Publisher] = append(by[o.Publisher], o)
	}
	for _, p := range order {
		d := Delivery{Provider: p, State: StateOpen, At: now}
		for _, o := range by[p] {
			d.Offerings = append(d.Offerings, o.ID)
		}
		r.Deliveries = append(r.Deliveries, d)
	}
	msgs := make(map[string]outgoing, len(order))
	for _, p := range order {
		m := outgoing{id: newID("ms")}
		var err error
		if m.b, err = encode(m.id, s.cfg.Self, MsgRequest, r.ID, wireRequest{Offerings: by[p], Need: need, Created: now}); err != nil {
			return Request{}, err
		}
		msgs[p] = m
	}
	// Each provider online with nothing queued for it is sent the
	// request now, before it is stored here; the others through the
	// outbox, in the same synced write as the request and its audit
	// event. If that write fails, or the node dies before it, the citizen
	// gets no answer and a provider may hold a request this node does not
	// know: its first reply is refused as unknown_request and it closes
	// its copy (Service.send). Until the write ends, a reply is asked to
	// come again (creating).
	s.creating(r.ID, true)
	defer s.creating(r.ID, false)
	sent := s.sendNow(ctx, msgs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.inOneWrite(ctx,
		func(tx *store.Tx) error { return s.mine.PutTx(ctx, tx, r) },
		func(tx *store.Tx) error {
			for _, p := range order {
				if sent[p] {
					continue
				}
				if err := s.out.EnqueueTx(ctx, tx, p, msgs[p].id, msgs[p].b); err != nil {
					return err
				}
			}
			return nil
		},
		func(tx *store.Tx) error { return s.recordTx(ctx, tx, a, audit.Create, "request", r.ID, "") },
	); err != nil {
		return Request{}, err
	}
	for _, o := range r.Offerings {
		s.dem.addLater(DemandRequest, o.Category, need.Municipality)
	}
	return r, nil
}

func (s *Service) catalogue(ctx context.Context, ref string) (OfferingRef, bool) {
	if s.cfg.Catalogue == nil || ref == "" || len(ref) > 200 {
		return OfferingRef{}, false
	}
	return s.cfg.Catalogue.Offering(ctx, ref)
}

// Requests lists what a may see, newest first: a citizen all their own,
// a provider the newest DefaultLimit of the inbox.
func (s *Service) Requests(ctx context.Context, a auth.Actor) ([]Request, error) {
	return s.RequestsPage(ctx, a, 0, DefaultLimit)
}

// RequestsPage is Requests from offset up to limit (a provider's inbox;
// a citizen gets all their own).
func (s *Service) RequestsPage(ctx context.Context, a auth.Actor, offset, limit int) ([]Request, error) {
	var out []Request
	switch {
	case ForCitizen(a):
		out = s.mine.Filter(func(r *Request) bool { return r.Citizen == a.Citizen() })
		slices.SortFunc(out, func(x, y Request) int { return y.Created.Compare(x.Created) })
	case IsProvider(a):
		out = newestFirst[Request](s.inbox, offset, limit)
	default:
		return nil, problem.ErrForbidden
	}
	for i := range out {
		out[i].Messages = nil // GET /api/v1/requests/{id}/messages reads them
	}
	s.note(a, audit.List, "request", "")
	if out == nil {
		out = []Request{}
	}
	return out, nil
}

// Get returns one request a may see.
func (s *Service) Get(ctx context.Context, a auth.Actor, id string) (Request, error) {
	var r Request
	var ok bool
	switch {
	case ForCitizen(a):
		r, ok = s.mine.Get(id)
		ok = ok && r.Citizen == a.Citizen()
	case IsProvider(a):
		r, ok = s.inbox.Get(id)
	}
	if !ok {
		return Request{}, s.denied(ctx, a, "request", id)
	}
	s.note(a, audit.Read, "request", id)
	return r, nil
}

// Accept accepts one offer of a citizen's request: the case opens, the
// other open offers are withdrawn and the providers still waiting are
// told the request is closed (a provider that declined hears nothing).
func (s *Service) Accept(ctx context.Context, a auth.Actor, id, offer string) (Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.mine.Get(id)
	if !ok || !ForCitizen(a) || r.Citizen != a.Citizen() {
		return Case{}, s.denied(ctx, a, "request", id)
	}
	if r.Case != "" {
		return Case{}, conflict("already_accepted", "an offer of this request was already accepted")
	}
	i := slices.IndexFunc(r.Offers, func(o Offer) bool { return o.ID == offer })
	if i < 0 {
		return Case{}, problem.Invalid(map[string]string{"offer": "unknown_offer"})
	}
	o := r.Offers[i]
	now := s.cfg.Clock.Now().UTC()
	if o.State != StateOpen || o.ValidUntil < now.Format("2006-01-02") {
		return Case{}, conflict("offer_not_valid", "the offer is withdrawn or expired")
	}
	c := Case{ID: s.orderedID("pr"), Request: r.ID, Offer: o.ID, Home: s.cfg.Self, Provider: o.Provider, Citizen: r.Citizen,
		Need: r.Need, Offerings: r.Offerings, State: CaseActive, Pending: true, Created: now,
		Timeline: []Change{{At: now, To: CaseActive, Side: SideCitizen}}, Due: []Due{{From: o.Start, Amount: o.Price, Unit: o.Unit}},
		Payments: []Payment{}, Messages: []Message{}}
	r.Case = c.ID
	r.State = StateAccepted
	r.Updated = now
	r.Offers[i].State = StateAccepted
	withdrawOpen(r.Offers)
	// The other providers still waiting are told the request is settled.
	var closed []string
	for j, d := range r.Deliveries {
		switch {
		case d.Provider == o.Provider:
			r.Deliveries[j].State = StateAccepted
		case d.State == StateOpen || d.State == StateOffered:
			r.Deliveries[j].State = StateClosed
			closed = append(closed, d.Provider)
		}
	}
	if err := s.inOneWrite(ctx,
		func(tx *store.Tx) error { return s.mirror.PutTx(ctx, tx, c) },
		func(tx *store.Tx) error {
			return s.queueTx(ctx, tx, o.Provider, MsgAccept, r.ID, wireAccept{Offer: o.ID, Case: c.ID})
		},
		func(tx *store.Tx) error {
			for _, p := range closed {
				if err := s.queueTx(ctx, tx, p, MsgWithdraw, r.ID, wireWithdraw{}); err != nil {
					return err
				}
			}
			return nil
		},
		func(tx *store.Tx) error { return s.mine.PutTx(ctx, tx, r) },
		func(tx *store.Tx) error { return s.recordTx(ctx, tx, a, audit.Create, "case", c.ID, "accept "+o.ID) },
	); err != nil {
		return Case{}, err
	}
	return c, nil
}
