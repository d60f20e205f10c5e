package requests

import (
	"context"
	"fmt"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/node/store"
)

// refusal is a message refused for good, with the code the sender sees.
type refusal = outbox.Refusal

// HandleRemote answers one message from the node peer (authenticated by
// libp2p). A message is handled once per id; a repeated one is answered
// as delivered and changes nothing.
func (s *Service) HandleRemote(ctx context.Context, peer string, msg []byte) []byte {
	e, body, err := Decode(msg)
	return s.recv.Receive(ctx, peer, e.From, e.ID, err, func(tx *store.Tx) error {
		if e.Type != MsgRequest && s.isCreating(e.Request) {
			// A reply quicker than this node's write of the request it
			// answers (Create): not unknown, only early.
			return refusal(outbox.TryLater)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.handle(ctx, tx, peer, e, body)
	})
}

// refused audits a refused message (its sender and code, nothing of its
// content).
func (s *Service) refused(ctx context.Context, peer, code string) {
	_ = s.record(ctx, systemActor, audit.Denied, "requests_message", "", "from "+peer+": "+code)
}

// handle applies one message; tx holds "handled" and, for the messages
// on the hot path (a request, an acceptance), their records and replies,
// so all of it is durable in one synced write.
func (s *Service) handle(ctx context.Context, tx *store.Tx, peer string, e Envelope, body any) error {
	switch b := body.(type) {
	case *wireRequest:
		return s.gotRequest(ctx, tx, peer, e.Request, b)
	case *wireOffer:
		return s.gotAnswer(ctx, peer, e.Request, &b.Offer, "")
	case *wireDecline:
		return s.gotAnswer(ctx, peer, e.Request, nil, b.Reason)
	case *wireAccept:
		return s.gotAccept(ctx, tx, peer, e.Request, b)
	case *wireWithdraw:
		return s.gotWithdraw(ctx, tx, peer, e.Request)
	case *wireTransition:
		return s.gotTransition(ctx, peer, b)
	case *wireCase:
		return s.gotCase(ctx, peer, b)
	case *wireMessage:
		return s.gotMessage(ctx, peer, b)
	case *wireRead:
		return s.gotRead(ctx, peer, b)
	case *wireRequestMessage:
		return s.gotRequestMessage(ctx, peer, e.Request, b)
	case *wireRequestRead:
		return s.gotRequestRead(ctx, peer, e.Request, b)
	}
	return refusal("bad_message")
}

// gotRequest files a request from the citizen's home node peer in the
// inbox, if every offering is one of this node's live offerings.
func (s *Service) gotRequest(ctx context.Context, tx *store.Tx, peer, id string, b *wireRequest) error {
	if old, ok := s.inbox.Get(id); ok {
		if old.Home != peer {
			return refusal("request_exists")
		}
		return nil
	}
	for i, o := range b.Offerings {
		if o.Publisher != s.cfg.Self {
			return refusal("not_our_offering")
		}
		live, ok := s.catalogue(ctx, s.cfg.Self+"/"+o.ID)
		if !ok {
			return refusal("unknown_offering")
		}
		b.Offerings[i] = live
	}
	now := s.cfg.Clock.Now().UTC()
	r := Request{ID: id, Home: peer, Offerings: b.Offerings, Need: b.Need, Consent: true, State: StateOpen,
		Offers: []Offer{}, Created: now, Updated: now}
	if err := s.inbox.PutTx(ctx, tx, r); err != nil {
		return err
	}
	// The request, its audit event and the message's "handled" mark are
	// one synced write; staff are told once it is durable, before the
	// answer. Nothing after this may fail and audit (RecordTx).
	if err := s.recordTx(ctx, tx, systemActor, audit.Create, "request", id, "received"); err != nil {
		return err
	}
	tx.Then(func(ok bool) {
		if ok {
			s.inboxGrew()
			s.notify(ctx, NoteRequest, id, "")
		}
	})
	return nil
}

// gotAnswer files a provider's offer (o set) or decline on the request.
func (s *Service) gotAnswer(ctx context.Context, peer, id string, o *Offer, reason string) error {
	r, ok := s.mine.Get(id)
	if !ok {
		return refusal("unknown_request")
	}
	i := slices.IndexFunc(r.Deliveries, func(d Delivery) bool { return d.Provider == peer })
	if i < 0 {
		return refusal("not_asked")
	}
	if r.Case != "" || r.Deliveries[i].State == StateDeclined {
		return refusal("request_closed")
	}
	d := &r.Deliveries[i]
	d.At = s.cfg.Clock.Now().UTC()
	if o != nil {
		if o.Provider != peer || o.Request != id {
			return refusal("forged_offer")
		}
		if slices.ContainsFunc(r.Offers, func(x Offer) bool { return x.ID == o.ID }) {
			return refusal("offer_exists")
		}
		o.State = StateOpen
		r.Offers = append(r.Offers, *o)
		d.State = StateOffered
	} else {
		d.State, d.Reason = StateDeclined, reason
		for j := range r.Offers {
			if r.Offers[j].Provider == peer && r.Offers[j].State == StateOpen {
				r.Offers[j].State = "withdrawn"
			}
		}
		for _, of := range r.Offerings {
			if of.Publisher == peer {
				s.dem.addLater(DemandDecline, of.Category, r.Municipality)
			}
		}
	}
	r.Updated = d.At
	if err := s.mine.Put(ctx, r); err != nil {
		return err
	}
	kind := NoteDecline
	if o != nil {
		kind = NoteOffer
	}
	s.notify(ctx, kind, id, r.Citizen)
	return s.record(ctx, systemActor, audit.Update, "request", id, "answer received")
}

// gotAccept opens the case the citizen's node asked for, if the offer is
// still valid; either way the home node gets the case as it stands.
func (s *Service) gotAccept(ctx context.Context, tx *store.Tx, peer, id string, b *wireAccept) error {
	r, ok := s.inbox.Get(id)
	if !ok || r.Home != peer {
		return refusal("unknown_request")
	}
	if r.Case != "" {
		if r.Case == b.Case {
			return nil
		}
		return refusal("already_accepted")
	}
	now := s.cfg.Clock.Now().UTC()
	i := slices.IndexFunc(r.Offers, func(o Offer) bool { return o.ID == b.Offer })
	if _, taken := s.cases.Get(b.Case); i < 0 || taken {
		return refusal("unknown_offer")
	}
	o := r.Offers[i]
	if o.State != StateOpen || o.ValidUntil < now.Format("2006-01-02") || r.State == StateDeclined {
		return s.queue(ctx, peer, MsgCase, id, wireCase{Case: b.Case, Offer: o.ID, State: CaseRefused, Version: 1,
			Timeline: []Change{{At: now, To: CaseRefused, Reason: "offer_not_valid", Side: SideProvider}}, Due: []Due{}, Payments: []Payment{}})
	}
	c := Case{ID: b.Case, Request: id, Offer: o.ID, Home: peer, Provider: s.cfg.Self, Need: r.Need, Offerings: r.Offerings,
		State: CaseActive, Version: 1, Created: now, Timeline: []Change{{At: now, To: CaseActive, Side: SideCitizen}},
		Due: []Due{{From: o.Start, Amount: o.Price, Unit: o.Unit}}, Payments: []Payment{}, Messages: []Message{}}
	r.Offers[i].State = StateAccepted
	r.State, r.Case, r.Updated = StateAccepted, c.ID, now
	if err := s.cases.PutTx(ctx, tx, c); err != nil {
		return err
	}
	if err := s.inbox.PutTx(ctx, tx, r); err != nil {
		return err
	}
	if err := s.queueTx(ctx, tx, peer, MsgCase, id, snapshot(c)); err != nil {
		return err
	}
	tx.Then(func(ok bool) {
		if ok {
			s.notify(ctx, NoteCaseOpened, c.ID, "")
		}
	})
	return s.recordTx(ctx, tx, systemActor, audit.Create, "case", c.ID, "accepted")
}

// gotWithdraw closes a request the citizen settled with another provider,
// within the message's tx: the closed request, its audit event and
// "handled" are one synced write, so a failed disk keeps none of them and
// the home node sends the message again.
func (s *Service) gotWithdraw(ctx context.Context, tx *store.Tx, peer, id string) error {
	r, ok := s.inbox.Get(id)
	if !ok || r.Home != peer {
		return refusal("unknown_request")
	}
	if r.State == StateAccepted {
		return refusal("already_accepted")
	}
	r.State, r.Updated = StateClosed, s.cfg.Clock.Now().UTC()
	withdrawOpen(r.Offers)
	if err := s.inbox.PutTx(ctx, tx, r); err != nil {
		return err
	}
	return s.recordTx(ctx, tx, systemActor, audit.Update, "request", id, "withdrawn")
}

// ReasonUnknownAtHome closes a request in a provider's inbox that its
// citizen's home node does not know: the home node sent it before storing
// it and failed, or died, before the request was stored (Create), or the
// citizen's data was erased since.
const ReasonUnknownAtHome = "unknown_at_home"

// orphaned closes the inbox request that payload, a provider's reply the
// home node to refused as unknown_request, was about. The closed request
// and its audit event are one synced write; when it fails, neither is
// kept and the error says so, so that the reply stays queued and the
// close is tried again when the home node refuses it again.
func (s *Service) orphaned(ctx context.Context, to string, payload []byte) error {
	e, _, err := Decode(payload)
	if err != nil || (e.Type != MsgOffer && e.Type != MsgDecline && e.Type != MsgRequestMessage) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.inbox.Get(e.Request)
	if !ok || r.Home != to || r.State == StateAccepted || r.State == StateClosed {
		return nil
	}
	r.State, r.Reason, r.Updated = StateClosed, ReasonUnknownAtHome, s.cfg.Clock.Now().UTC()
	withdrawOpen(r.Offers)
	err = s.inOneWrite(ctx,
		func(tx *store.Tx) error { return s.inbox.PutTx(ctx, tx, r) },
		func(tx *store.Tx) error {
			return s.recordTx(ctx, tx, systemActor, audit.Update, "request", r.ID, "closed: "+ReasonUnknownAtHome)
		})
	if err != nil {
		s.log.Error("cannot close a request its home node does not know", "request", r.ID, "err", err)
		return fmt.Errorf("close orphan request %s: %w", r.ID, err)
	}
	return nil
}

// gotTransition applies the citizen's change to the authoritative case
// when the table allows it, and sends the case back either way, so the
// mirror converges on what the provider holds.
func (s *Service) gotTransition(ctx context.Context, peer string, b *wireTransition) error {
	c, ok := s.cases.Get(b.Case)
	if !ok || c.Home != peer {
		return refusal("unknown_case")
	}
	now := s.cfg.Clock.Now().UTC()
	t := TransitionRequest{To: b.To, Reason: b.Reason, Price: b.Price, Unit: b.Unit}
	applied := apply(&c, t, SideCitizen, now.Format("2006-01-02"), func() Change { return Change{At: now} }) == nil
	c.Version++
	if err := s.cases.Put(ctx, c); err != nil {
		return err
	}
	if err := s.queue(ctx, peer, MsgCase, c.Request, snapshot(c)); err != nil {
		return err
	}
	detail := "transition " + b.To
	if !applied {
		detail += " not allowed"
	}
	if applied {
		s.notify(ctx, NoteCaseStatus, c.ID, "")
	}
	return s.record(ctx, systemActor, audit.Update, "case", c.ID, detail)
}

// gotCase replaces the mirror with the provider's newer case.
func (s *Service) gotCase(ctx context.Context, peer string, b *wireCase) error {
	c, ok := s.mirror.Get(b.Case)
	if !ok || c.Provider != peer || c.Offer != b.Offer {
		return refusal("unknown_case")
	}
	if b.Version <= c.Version {
		return nil
	}
	// The citizen hears of the provider's changes, not of the echo of
	// their own.
	told := b.State == CaseRefused && c.State != CaseRefused
	for i := len(c.Timeline); i < len(b.Timeline); i++ {
		told = told || b.Timeline[i].Side == SideProvider
	}
	c.State, c.Version, c.Timeline, c.Due, c.Payments, c.PaymentLink, c.Pending =
		b.State, b.Version, b.Timeline, b.Due, b.Payments, b.PaymentLink, false
	if err := s.mirror.Put(ctx, c); err != nil {
		return err
	}
	if told {
		s.notify(ctx, NoteCaseStatus, c.ID, c.Citizen)
	}
	return s.record(ctx, systemActor, audit.Update, "case", c.ID, "synchronised")
}

// caseFor finds the copy of a case that a message from peer, written on
// side, belongs to.
func (s *Service) caseFor(peer, id, side string) (Case, string, bool) {
	if side == SideCitizen {
		c, ok := s.cases.Get(id)
		return c, SideProvider, ok && c.Home == peer
	}
	c, ok := s.mirror.Get(id)
	return c, SideCitizen, ok && c.Provider == peer
}

func (s *Service) gotMessage(ctx context.Context, peer string, b *wireMessage) error {
	c, mine, ok := s.caseFor(peer, b.Case, b.Message.Side)
	if !ok {
		return refusal("unknown_case")
	}
	if slices.ContainsFunc(c.Messages, func(m Message) bool { return m.ID == b.Message.ID }) {
		return nil
	}
	if len(c.Messages) >= 10000 {
		return refusal("too_many_messages")
	}
	m := b.Message
	m.ReadAt, m.At = nil, s.cfg.Clock.Now().UTC()
	c.Messages = append(c.Messages, m)
	if err := s.put(ctx, mine, c); err != nil {
		return err
	}
	s.notify(ctx, NoteMessage, c.ID, c.Citizen)
	return s.record(ctx, systemActor, audit.Create, "case_message", m.ID, "received")
}

func (s *Service) gotRead(ctx context.Context, peer string, b *wireRead) error {
	c, mine, ok := s.caseFor(peer, b.Case, b.Side)
	if !ok {
		return refusal("unknown_case")
	}
	at := b.At
	for i := range c.Messages {
		if c.Messages[i].Side == mine && c.Messages[i].ReadAt == nil && slices.Contains(b.IDs, c.Messages[i].ID) {
			c.Messages[i].ReadAt = &at
		}
	}
	return s.put(ctx, mine, c)
}

// notify tells user (the coop's staff when "") about object.
func (s *Service) notify(ctx context.Context, kind, id, user string) {
	if s.cfg.Notify != nil {
		s.cfg.Notify(ctx, kind, id, user)
	}
}
