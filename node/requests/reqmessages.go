package requests

import (
	"context"
	"slices"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// maxRequestMessages bounds the messages one request holds (all its
// threads): the conversation moves to the case once an offer is accepted.
const maxRequestMessages = 1000

// NewRequestMessage is the body of POST /api/v1/requests/{id}/messages.
// Provider names the provider's thread on the citizen's side; it may be
// left out when the request went to one provider only.
type NewRequestMessage struct {
	Provider   string      `json:"provider,omitempty"`
	Text       string      `json:"text"`
	Attachment *Attachment `json:"attachment,omitempty"`
}

// talking reports whether a request's thread is still open: the provider
// has not declined and no offer was accepted (after acceptance the
// conversation goes on in the case).
func talking(state string) bool { return state == StateOpen || state == StateOffered }

// threadOf returns the request a may write on and the node to send to.
func (s *Service) threadOf(ctx context.Context, a auth.Actor, id, provider string) (Request, string, string, error) {
	side, ok := s.side(a)
	if !ok {
		return Request{}, "", "", problem.ErrForbidden
	}
	if side == SideProvider {
		r, ok := s.inbox.Get(id)
		if !ok {
			return Request{}, "", "", s.denied(ctx, a, "request", id)
		}
		if !talking(r.State) {
			return Request{}, "", "", conflict("request_"+r.State, "the request is "+r.State+"; write on its case, if any")
		}
		return r, side, r.Home, nil
	}
	r, ok := s.mine.Get(id)
	if !ok || r.Citizen != a.Citizen() {
		return Request{}, "", "", s.denied(ctx, a, "request", id)
	}
	if provider == "" && len(r.Deliveries) == 1 {
		provider = r.Deliveries[0].Provider
	}
	i := slices.IndexFunc(r.Deliveries, func(d Delivery) bool { return d.Provider == provider })
	if i < 0 {
		return Request{}, "", "", problem.Invalid(map[string]string{"provider": "not_asked"})
	}
	if st := r.Deliveries[i].State; !talking(st) || r.Case != "" {
		return Request{}, "", "", conflict("request_"+st, "this provider's part of the request is "+st)
	}
	return r, side, provider, nil
}

// SendRequestMessage adds a message to a request's thread with one
// provider and sends it to the other node.
func (s *Service) SendRequestMessage(ctx context.Context, a auth.Actor, id string, in NewRequestMessage) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, side, to, err := s.threadOf(ctx, a, id, in.Provider)
	if err != nil {
		return Message{}, err
	}
	if f := checkMessage(in.Text, in.Attachment); f != "" {
		_ = s.record(ctx, a, audit.Denied, "request_message", id, f)
		if f == "attachment_size" {
			return Message{}, problem.New(413, f, "the attachment is empty or over 2 MiB")
		}
		return Message{}, problem.Invalid(map[string]string{"message": f})
	}
	if len(r.Messages) >= maxRequestMessages {
		return Message{}, conflict("too_many_messages", "this request holds too many messages")
	}
	m := Message{ID: newID("mg"), Side: side, Author: a.Username, Text: in.Text, Attachment: in.Attachment, At: s.cfg.Clock.Now().UTC()}
	wm := m
	wm.Author = ""
	if side == SideCitizen {
		m.Provider = to
	}
	r.Messages = append(r.Messages, m)
	if err := s.putRequest(ctx, side, r); err != nil {
		return Message{}, err
	}
	if err := s.queue(ctx, to, MsgRequestMessage, r.ID, wireRequestMessage{Message: wm}); err != nil {
		return Message{}, err
	}
	return m, s.record(ctx, a, audit.Create, "request_message", m.ID, "request "+id)
}

// RequestMessages returns a request's messages a may see (a provider its
// own thread, the citizen every thread) and marks the other side's as
// read, telling the other node(s).
func (s *Service) RequestMessages(ctx context.Context, a auth.Actor, id string) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	side, ok := s.side(a)
	if !ok {
		return nil, problem.ErrForbidden
	}
	var r Request
	if side == SideProvider {
		r, ok = s.inbox.Get(id)
	} else {
		r, ok = s.mine.Get(id)
		ok = ok && r.Citizen == a.Citizen()
	}
	if !ok {
		return nil, s.denied(ctx, a, "request", id)
	}
	s.note(a, audit.Read, "request_messages", id)
	now := s.cfg.Clock.Now().UTC()
	read := map[string][]string{} // node to tell -> ids
	var order []string
	for i, m := range r.Messages {
		if m.Side == side || m.ReadAt != nil {
			continue
		}
		r.Messages[i].ReadAt = &now
		to := r.Home
		if side == SideCitizen {
			to = m.Provider
		}
		if read[to] == nil {
			order = append(order, to)
		}
		read[to] = append(read[to], m.ID)
	}
	if len(order) > 0 {
		if err := s.putRequest(ctx, side, r); err != nil {
			return nil, err
		}
		for _, to := range order {
			if err := s.queue(ctx, to, MsgRequestRead, r.ID, wireRequestRead{Side: side, IDs: read[to], At: now}); err != nil {
				return nil, err
			}
		}
	}
	if r.Messages == nil {
		return []Message{}, nil
	}
	return r.Messages, nil
}

func (s *Service) putRequest(ctx context.Context, side string, r Request) error {
	if side == SideCitizen {
		return s.mine.Put(ctx, r)
	}
	return s.inbox.Put(ctx, r)
}

// requestFor finds the copy of a request that a message from peer,
// written on side, belongs to, if its thread is still open.
func (s *Service) requestFor(peer, id, side string) (Request, string, error) {
	if side == SideCitizen {
		r, ok := s.inbox.Get(id)
		if !ok || r.Home != peer {
			return Request{}, "", refusal("unknown_request")
		}
		if !talking(r.State) {
			return Request{}, "", refusal("request_closed")
		}
		return r, SideProvider, nil
	}
	r, ok := s.mine.Get(id)
	if !ok {
		return Request{}, "", refusal("unknown_request")
	}
	i := slices.IndexFunc(r.Deliveries, func(d Delivery) bool { return d.Provider == peer })
	if i < 0 {
		return Request{}, "", refusal("not_asked")
	}
	if !talking(r.Deliveries[i].State) || r.Case != "" {
		return Request{}, "", refusal("request_closed")
	}
	return r, SideCitizen, nil
}

func (s *Service) gotRequestMessage(ctx context.Context, peer, id string, b *wireRequestMessage) error {
	r, mine, err := s.requestFor(peer, id, b.Message.Side)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(r.Messages, func(m Message) bool { return m.ID == b.Message.ID }) {
		return nil
	}
	if len(r.Messages) >= maxRequestMessages {
		return refusal("too_many_messages")
	}
	m := b.Message
	m.ReadAt, m.At = nil, s.cfg.Clock.Now().UTC()
	if mine == SideCitizen {
		m.Provider = peer
	}
	r.Messages = append(r.Messages, m)
	if err := s.putRequest(ctx, mine, r); err != nil {
		return err
	}
	s.notify(ctx, NoteRequestMessage, r.ID, r.Citizen)
	return s.record(ctx, systemActor, audit.Create, "request_message", m.ID, "received")
}

// gotRequestRead marks this side's messages the other side has read.
// Receipts are accepted after the thread closed: they change no state.
func (s *Service) gotRequestRead(ctx context.Context, peer, id string, b *wireRequestRead) error {
	var r Request
	var ok bool
	mine := SideProvider
	if b.Side == SideProvider {
		mine = SideCitizen
		r, ok = s.mine.Get(id)
		ok = ok && slices.ContainsFunc(r.Deliveries, func(d Delivery) bool { return d.Provider == peer })
	} else {
		r, ok = s.inbox.Get(id)
		ok = ok && r.Home == peer
	}
	if !ok {
		return refusal("unknown_request")
	}
	at := b.At
	changed := false
	for i, m := range r.Messages {
		if m.Side == mine && m.ReadAt == nil && (mine == SideProvider || m.Provider == peer) && slices.Contains(b.IDs, m.ID) {
			r.Messages[i].ReadAt, changed = &at, true
		}
	}
	if !changed {
		return nil
	}
	return s.putRequest(ctx, mine, r)
}
