package calls

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
)

// Endpoint is one side of a call as the hub sees it: a WebSocket of this
// node, or a signal stream from another node.
type Endpoint interface {
	// Send queues m without blocking; false when the endpoint is gone or
	// too slow (its queue is full).
	Send(m Msg) bool
	// Close ends the endpoint, telling it why.
	Close(reason string)
}

// ringGrace is how long past the countdown the hub waits for the terminal
// to accept before the call counts as not answered.
const ringGrace = 30 * time.Second

type callState int

const (
	ringing callState = iota
	accepted
	ended
)

type call struct {
	id        string
	ben       string
	term      *Terminal
	caller    Endpoint
	callerRef string
	grant     string
	state     callState
	rec       Record
	timer     clock.Timer
}

// Terminal is a paired terminal connected to this node.
type Terminal struct {
	Endpoint
	Device      string
	TerminalID  string
	Beneficiary string
}

// Hub relays signaling. Calls whose terminal is on this node are owned
// here (state machine and record); calls to a terminal of another node are
// relayed over a signal stream, owned there.
type Hub struct {
	s *Service

	mu        sync.Mutex
	terminals map[string]*Terminal    // by beneficiary
	calls     map[string]*call        // owned here, by call id
	caregiver map[Endpoint]callerInfo // local caregiver sockets, for requests
	closed    bool
}

type callerInfo struct {
	caregiver string
}

func newHub(s *Service) *Hub {
	return &Hub{s: s, terminals: map[string]*Terminal{}, calls: map[string]*call{}, caregiver: map[Endpoint]callerInfo{}}
}

func (h *Hub) note(actor, act, object, detail string) {
	h.s.cfg.Audit.Note(audit.Event{Actor: actor, Action: audit.Action(act), Kind: "call", Object: object, Detail: detail})
}

// AttachTerminal registers a terminal's socket; an older socket of the same
// beneficiary is replaced (the screen reloaded).
func (h *Hub) AttachTerminal(t *Terminal) {
	h.mu.Lock()
	old := h.terminals[t.Beneficiary]
	h.terminals[t.Beneficiary] = t
	closed := h.closed
	h.mu.Unlock()
	if old != nil && old != t {
		h.DetachTerminal(old, "replaced")
		old.Close("replaced")
	}
	if closed {
		t.Close("shutting_down")
		return
	}
	h.s.noteSeen("terminal", t.TerminalID)
	h.s.emit(Event{Type: EventTerminalChanged, Beneficiary: t.Beneficiary})
}

// DetachTerminal forgets a terminal socket and ends its calls.
func (h *Hub) DetachTerminal(t *Terminal, why string) {
	h.mu.Lock()
	gone := h.terminals[t.Beneficiary] == t
	if gone {
		delete(h.terminals, t.Beneficiary)
	}
	var ends []*call
	for _, c := range h.calls {
		if c.term == t {
			ends = append(ends, c)
		}
	}
	h.mu.Unlock()
	for _, c := range ends {
		h.end(c, "terminal_"+why, nil, c.caller)
	}
	if gone {
		h.s.noteSeen("terminal", t.TerminalID)
		h.s.emit(Event{Type: EventTerminalChanged, Beneficiary: t.Beneficiary})
	}
}

// Online reports whether a beneficiary's terminal is connected.
func (h *Hub) Online(ben string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.terminals[ben] != nil
}

// AttachCaregiver registers a local caregiver socket to hear call requests.
func (h *Hub) AttachCaregiver(e Endpoint, caregiver string) {
	h.mu.Lock()
	h.caregiver[e] = callerInfo{caregiver: caregiver}
	h.mu.Unlock()
	h.s.noteSeen("caregiver", caregiver)
}

// DetachCaregiver forgets a caregiver socket and ends the calls it placed.
func (h *Hub) DetachCaregiver(e Endpoint) {
	h.mu.Lock()
	info, ok := h.caregiver[e]
	delete(h.caregiver, e)
	h.mu.Unlock()
	if ok {
		h.s.noteSeen("caregiver", info.caregiver)
	}
	h.CallerGone(e)
}

// CallerGone ends every call placed by e (socket or stream closed).
func (h *Hub) CallerGone(e Endpoint) {
	h.mu.Lock()
	var ends []*call
	for _, c := range h.calls {
		if c.caller == e {
			ends = append(ends, c)
		}
	}
	h.mu.Unlock()
	for _, c := range ends {
		h.end(c, "caller_gone", c.term, nil)
	}
}

// Refusal reasons of a call.
var (
	ErrOffline     = errors.New("terminal_offline")
	ErrBusy        = errors.New("busy")
	ErrNotAllowed  = errors.New("not_allowed")
	ErrDuplicateID = errors.New("duplicate_call")
	ErrShutdown    = errors.New("shutting_down")
)

// StartCall rings the terminal of ben for a caller already authorised by
// the layer that knows who it is (caregiver of this node, or a grant).
func (h *Hub) StartCall(id, ben string, caller Endpoint, callerRef, from, grant string) error {
	now := h.s.now()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrShutdown
	}
	if h.calls[id] != nil {
		h.mu.Unlock()
		return ErrDuplicateID
	}
	t := h.terminals[ben]
	busy := false
	for _, c := range h.calls {
		if c.ben == ben {
			busy = true
		}
	}
	rec := Record{ID: id, Beneficiary: ben, Caregiver: callerRef, Grant: grant, Started: now}
	if t == nil || busy {
		h.mu.Unlock()
		rec.Ended = now
		err := ErrBusy
		if t == nil {
			err = ErrOffline
		}
		rec.EndReason = err.Error()
		h.s.saveRecord(rec) // a call that could not ring is still a call tried
		// Offline counts towards the window's retries; busy does not (the
		// beneficiary is on another call, likely a check-in).
		ev := EventPlaced
		if t == nil {
			ev = EventUnanswered
		}
		h.s.emit(Event{Type: ev, Call: id, Beneficiary: ben, Caregiver: callerRef, At: now})
		return err
	}
	countdown := h.s.Settings(ben).Countdown
	c := &call{id: id, ben: ben, term: t, caller: caller, callerRef: callerRef, grant: grant, rec: rec}
	h.calls[id] = c
	c.timer = h.s.cfg.Clock.AfterFunc(time.Duration(countdown)*time.Second+ringGrace, func() { h.end(c, "no_answer", c.term, c.caller) })
	h.mu.Unlock()
	// Signal first, then the synced write: the disk is not on the call's
	// critical path.
	t.Send(h.ringMsg(id, from, callerRef, grant, countdown))
	caller.Send(Msg{Type: TypeRinging, Call: id, Countdown: countdown})
	h.s.saveRecord(rec)
	h.note(callerRef, "call", id, "ring")
	h.s.emit(Event{Type: EventPlaced, Call: id, Beneficiary: ben, Caregiver: callerRef, At: now})
	return nil
}

// ringMsg is the terminal's ring: the caller's name, and the path of her
// photo when she is a caregiver of this node with one (a caller through a
// grant has her photo on her own coop's node, which never sends it).
func (h *Hub) ringMsg(id, from, callerRef, grant string, countdown int) Msg {
	m := Msg{Type: TypeRing, Call: id, From: from, Countdown: countdown}
	if grant == "" && callerRef != "" {
		if p, ok := h.s.cfg.Dir.Caregiver(callerRef); ok && p.Photo != "" {
			m.Photo = "/api/v1/caregivers/" + url.PathEscape(callerRef) + "/photo?v=" + url.QueryEscape(p.Photo)
		}
	}
	return m
}

// end finishes a call once, tells the given endpoints, and stores the record.
func (h *Hub) end(c *call, why string, tellTerm *Terminal, tellCaller Endpoint) {
	h.mu.Lock()
	if c.state == ended {
		h.mu.Unlock()
		return
	}
	c.state = ended
	delete(h.calls, c.id)
	c.timer.Stop()
	now := h.s.now()
	c.rec.Ended, c.rec.EndReason = now, why
	if c.rec.Answered {
		c.rec.Seconds = int(now.Sub(c.rec.AnsweredAt).Round(time.Second) / time.Second)
	}
	rec := c.rec
	h.mu.Unlock()
	h.s.saveRecord(rec)
	h.note(c.callerRef, "call_end", c.id, why)
	// A node shutting down is not the beneficiary failing to answer.
	if !rec.Answered && why != ErrShutdown.Error() {
		h.s.emit(Event{Type: EventUnanswered, Call: c.id, Beneficiary: c.ben, Caregiver: c.callerRef, At: now})
	}
	m := Msg{Type: TypeHangup, Call: c.id, Reason: why}
	if tellTerm != nil {
		tellTerm.Send(m)
	}
	if tellCaller != nil {
		tellCaller.Send(m)
	}
}

// FromCaller handles a message of the caller of a call owned here.
func (h *Hub) FromCaller(e Endpoint, m Msg) {
	h.mu.Lock()
	c := h.calls[m.Call]
	if c == nil || c.caller != e {
		h.mu.Unlock()
		e.Send(Msg{Type: TypeError, Call: m.Call, Reason: "unknown_call"})
		return
	}
	state := c.state
	h.mu.Unlock()
	switch m.Type {
	case TypeHangup:
		h.end(c, "caller_hangup", c.term, nil)
	case TypeOffer, TypeCandidate:
		if state != accepted {
			e.Send(Msg{Type: TypeError, Call: m.Call, Reason: "not_answered"})
			return
		}
		c.term.Send(Msg{Type: m.Type, Call: m.Call, SDP: m.SDP, Candidate: m.Candidate})
	default:
		e.Send(Msg{Type: TypeError, Call: m.Call, Reason: "unexpected_" + m.Type})
	}
}

// FromTerminal handles a message of a terminal.
func (h *Hub) FromTerminal(t *Terminal, m Msg) {
	switch m.Type {
	case TypeFine, TypeRequest:
		h.checkin(t, m.Type)
		return
	}
	h.mu.Lock()
	c := h.calls[m.Call]
	if c == nil || c.term != t {
		h.mu.Unlock()
		t.Send(Msg{Type: TypeError, Call: m.Call, Reason: "unknown_call"})
		return
	}
	switch m.Type {
	case TypeAccept:
		if c.state != ringing {
			h.mu.Unlock()
			return
		}
		c.state = accepted
		c.rec.Answered, c.rec.AnsweredAt = true, h.s.now()
		c.timer.Stop()
		rec := c.rec
		h.mu.Unlock()
		c.caller.Send(Msg{Type: TypeAccepted, Call: c.id})
		h.s.saveRecord(rec)
		h.s.calledBack(c.ben, c.id, c.callerRef)
		h.s.emit(Event{Type: EventAnswered, Call: c.id, Beneficiary: c.ben, Caregiver: c.callerRef, At: rec.AnsweredAt})
	case TypeAnswer, TypeCandidate:
		ok := c.state == accepted
		h.mu.Unlock()
		if !ok {
			t.Send(Msg{Type: TypeError, Call: m.Call, Reason: "not_answered"})
			return
		}
		c.caller.Send(Msg{Type: m.Type, Call: m.Call, SDP: m.SDP, Candidate: m.Candidate})
	case TypeHangup:
		h.mu.Unlock()
		h.end(c, "terminal_hangup", nil, c.caller)
	default:
		h.mu.Unlock()
		t.Send(Msg{Type: TypeError, Call: m.Call, Reason: "unexpected_" + m.Type})
	}
}

// checkin records "Sto bene" or "Chiamatemi" and tells the beneficiary's
// caregivers connected to this node.
func (h *Hub) checkin(t *Terminal, kind string) {
	h.s.cfg.Audit.Note(audit.Event{Actor: "terminal:" + t.Device, Action: audit.Action(kind), Kind: "checkin", Object: t.Beneficiary})
	if kind == TypeFine {
		h.s.emit(Event{Type: EventImFine, Beneficiary: t.Beneficiary})
	} else {
		h.s.openRequest(t.Beneficiary, t.Device)
	}
	b, ok := h.s.cfg.Dir.Beneficiary(t.Beneficiary)
	if !ok {
		return
	}
	h.mu.Lock()
	var tell []Endpoint
	for e, ci := range h.caregiver {
		if slices.Contains(b.Caregivers, ci.caregiver) {
			tell = append(tell, e)
		}
	}
	h.mu.Unlock()
	for _, e := range tell {
		e.Send(Msg{Type: kind, Beneficiary: t.Beneficiary})
	}
	h.s.forwardCheckin(t.Beneficiary, kind)
	t.Send(Msg{Type: TypeOK, Reason: kind})
}

// NotifyCaregiver tells a caregiver's open sockets on this node.
func (h *Hub) NotifyCaregiver(caregiver string, m Msg) int {
	h.mu.Lock()
	var tell []Endpoint
	for e, ci := range h.caregiver {
		if ci.caregiver == caregiver {
			tell = append(tell, e)
		}
	}
	h.mu.Unlock()
	for _, e := range tell {
		e.Send(m)
	}
	return len(tell)
}

// endGrant hangs up the live calls placed under a revoked grant.
func (h *Hub) endGrant(grant string) {
	h.mu.Lock()
	var ends []*call
	for _, c := range h.calls {
		if c.grant == grant {
			ends = append(ends, c)
		}
	}
	h.mu.Unlock()
	for _, c := range ends {
		h.end(c, "grant_revoked", c.term, c.caller)
	}
}

// dropDevice closes the socket of a revoked device at once.
func (h *Hub) dropDevice(device string) {
	h.mu.Lock()
	var drop []*Terminal
	for _, t := range h.terminals {
		if t.Device == device {
			drop = append(drop, t)
		}
	}
	h.mu.Unlock()
	for _, t := range drop {
		h.DetachTerminal(t, "revoked")
		t.Close(ErrDeviceRevoked.Code)
	}
}

// Live counts calls owned here (tests and metrics).
func (h *Hub) Live() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

func (h *Hub) close() {
	h.mu.Lock()
	h.closed = true
	var cs []*call
	for _, c := range h.calls {
		cs = append(cs, c)
	}
	ts := make([]Endpoint, 0, len(h.terminals)+len(h.caregiver))
	for _, t := range h.terminals {
		ts = append(ts, t)
	}
	// Hijacked sockets outlive the HTTP server's shutdown: close them here.
	for e := range h.caregiver {
		ts = append(ts, e)
	}
	h.mu.Unlock()
	for _, c := range cs {
		h.end(c, "shutting_down", c.term, c.caller)
	}
	for _, t := range ts {
		t.Close("shutting_down")
	}
}

// nextCall finds the next agreed call of a beneficiary.
func (s *Service) nextCall(ben string) *NextCall {
	now := s.now()
	ss := s.schedules.Filter(func(sc *Schedule) bool { return !sc.Archived && sc.Beneficiary == ben })
	occ := Agenda(ss, now, now.AddDate(0, 0, 35))
	if len(occ) == 0 {
		return nil
	}
	name := ""
	if !strings.Contains(occ[0].Caregiver, "/") {
		if c, ok := s.cfg.Dir.Caregiver(occ[0].Caregiver); ok {
			name = c.Name
		}
	} else {
		for _, g := range s.grants.Filter(func(g *Grant) bool { return fmtRef(g.Node, g.Caregiver) == occ[0].Caregiver }) {
			name = g.Name
		}
	}
	return &NextCall{Start: occ[0].Start.Format(time.RFC3339), Caregiver: name}
}

var _ = context.Background
