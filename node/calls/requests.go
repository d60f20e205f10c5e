package calls

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// A call request is "Chiamatemi" pressed on a terminal. It is stored, so
// that it outlives the agendas open at that moment and a restart of the
// node; it stays open until a call to the beneficiary connects (a call
// back) or a caregiver or the admin closes it. Not called back within
// the coop's time (the admin's CoopSettings, else Config.RequestWait), it
// is reported once as missed (EventRequestMissed), which escalation turns
// into a case; it stays open until called back.

// Request states.
const (
	RequestOpen       = "open"
	RequestCalledBack = "called_back"
	RequestClosed     = "closed"
)

// DefaultRequestWait is how long a call request may wait for a call back
// before it is reported as missed, unless the coop sets another time.
const DefaultRequestWait = 30 * time.Minute

// Request is one "Chiamatemi" of a terminal.
type Request struct {
	ID          string    `json:"id"`
	Beneficiary string    `json:"beneficiary"`
	At          time.Time `json:"at"`
	State       string    `json:"state"`
	// Due is when the request counts as missed if nobody called back.
	Due time.Time `json:"due"`
	// Missed is set once the request was reported to escalation.
	Missed   bool      `json:"missed,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"` // username, or the caller of the call back
	Call     string    `json:"call,omitempty"`      // the call back that closed it
}

// openRequest stores a terminal's "Chiamatemi". A beneficiary has at most
// one open request: pressing again while one waits changes nothing.
func (s *Service) openRequest(ben, device string) (Request, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.reqMu.Lock()
	if open := s.requests.Filter(func(r *Request) bool { return r.Beneficiary == ben && r.State == RequestOpen }); len(open) > 0 {
		s.reqMu.Unlock()
		return open[0], false
	}
	now := s.now()
	r := Request{ID: newID(), Beneficiary: ben, At: now, State: RequestOpen, Due: now.Add(s.requestWait())}
	if err := s.requests.Put(ctx, r); err != nil {
		s.reqMu.Unlock()
		s.log.Error("call request not stored", "beneficiary", ben, "err", err)
		return Request{}, false
	}
	s.armRequest(r)
	s.reqMu.Unlock()
	_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "terminal:" + device, Action: audit.Create, Kind: "call_request", Object: r.ID})
	s.emit(Event{Type: EventRequested, Beneficiary: ben, Request: r.ID, At: now})
	return r, true
}

// armRequest sets the timer of an open request. Caller holds reqMu.
func (s *Service) armRequest(r Request) {
	if r.Missed || r.State != RequestOpen {
		return
	}
	if s.reqTimers == nil {
		s.reqTimers = map[string]clock.Timer{}
	}
	if t := s.reqTimers[r.ID]; t != nil {
		t.Stop()
	}
	// Due is in the future here (StartRequests reports the others): a
	// fake clock runs a timer of 0 at once, under reqMu.
	d := max(r.Due.Sub(s.now()), time.Millisecond)
	s.reqTimers[r.ID] = s.cfg.Clock.AfterFunc(d, func() { s.requestDue(r.ID) })
}

// StartRequests arms the timers of the requests stored open, once the
// node's escalation listens (a request overdue during a restart is
// reported now).
func (s *Service) StartRequests() {
	s.reqMu.Lock()
	var due []string
	now := s.now()
	for _, r := range s.requests.Filter(func(r *Request) bool { return r.State == RequestOpen && !r.Missed }) {
		if r.Due.After(now) {
			s.armRequest(r)
		} else {
			due = append(due, r.ID)
		}
	}
	s.reqMu.Unlock()
	for _, id := range due {
		s.requestDue(id)
	}
}

// requestDue reports a request nobody called back in time.
func (s *Service) requestDue(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.reqMu.Lock()
	delete(s.reqTimers, id)
	r, ok := s.requests.Get(id)
	if !ok || r.State != RequestOpen || r.Missed {
		s.reqMu.Unlock()
		return
	}
	r.Missed = true
	if err := s.requests.Put(ctx, r); err != nil {
		s.reqMu.Unlock()
		s.log.Error("call request not stored", "request", id, "err", err)
		return
	}
	s.reqMu.Unlock()
	s.emit(Event{Type: EventRequestMissed, Beneficiary: r.Beneficiary, Request: r.ID})
}

// calledBack closes the open requests of ben: a call to them connected.
func (s *Service) calledBack(ben, call, caller string) {
	s.closeRequests(func(r *Request) bool { return r.Beneficiary == ben }, RequestCalledBack, caller, call)
}

func (s *Service) closeRequests(match func(*Request) bool, state, by, call string) []Request {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var out []Request
	for _, r := range s.requests.Filter(func(r *Request) bool { return r.State == RequestOpen && match(r) }) {
		r.State, r.ClosedAt, r.ClosedBy, r.Call = state, s.now(), by, call
		if err := s.requests.Put(ctx, r); err != nil {
			s.log.Error("call request not stored", "request", r.ID, "err", err)
			continue
		}
		if t := s.reqTimers[r.ID]; t != nil {
			t.Stop()
			delete(s.reqTimers, r.ID)
		}
		s.cfg.Audit.Note(audit.Event{Actor: by, Action: audit.Update, Kind: "call_request", Object: r.ID, Detail: state})
		out = append(out, r)
	}
	return out
}

// Requests lists the open call requests the actor may see, oldest first.
func (s *Service) Requests(ctx context.Context, a auth.Actor) []Request {
	out := s.requests.Filter(func(r *Request) bool { return r.State == RequestOpen && s.canSeeBeneficiary(a, r.Beneficiary) })
	slices.SortFunc(out, func(x, y Request) int { return x.At.Compare(y.At) })
	s.cfg.Audit.Note(s.event(a, audit.List, "call_request", "", ""))
	if out == nil {
		out = []Request{}
	}
	return out
}

// CallRequest returns one request (any state) the actor may see.
func (s *Service) CallRequest(ctx context.Context, a auth.Actor, id string) (Request, error) {
	r, ok := s.requests.Get(id)
	if !ok {
		return Request{}, problem.ErrNotFound
	}
	if !s.canSeeBeneficiary(a, r.Beneficiary) {
		return Request{}, s.deny(ctx, a, "call_request", id, "read")
	}
	s.cfg.Audit.Note(s.event(a, audit.Read, "call_request", id, ""))
	return r, nil
}

// CloseRequest closes a request by hand (the caregiver phoned back, or it
// is no longer needed): the admin, or a caregiver of the beneficiary.
func (s *Service) CloseRequest(ctx context.Context, a auth.Actor, id string) (Request, error) {
	r, ok := s.requests.Get(id)
	if !ok {
		return Request{}, problem.ErrNotFound
	}
	if !s.canSeeBeneficiary(a, r.Beneficiary) {
		return Request{}, s.deny(ctx, a, "call_request", id, "close")
	}
	if r.State != RequestOpen {
		return r, nil
	}
	if got := s.closeRequests(func(x *Request) bool { return x.ID == id }, RequestClosed, a.Username, ""); len(got) == 1 {
		r = got[0]
	}
	return r, s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "call_request", id, RequestClosed))
}

func (s *Service) listRequests(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": s.Requests(r.Context(), a), "wait_minutes": int(s.requestWait() / time.Minute)})
	return nil
}

func (s *Service) closeRequest(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	out, err := s.CloseRequest(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
