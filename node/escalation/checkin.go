package escalation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

// EventType says what happened in a call or on a terminal.
type EventType string

// The events node/calls reports.
const (
	CallPlaced     EventType = "call_placed"     // a caregiver rang the terminal
	CallAnswered   EventType = "call_answered"   // the terminal answered: a check-in
	CallUnanswered EventType = "call_unanswered" // it rang out, or the terminal refused
	ImFine         EventType = "im_fine"         // "Sto bene" on the terminal: a check-in
	// CallRequested: "Chiamatemi" on the terminal, stored as a call
	// request (Request); the beneficiary's caregivers are told.
	CallRequested EventType = "call_requested"
	// RequestMissed: nobody called the request back in the coop's time;
	// a case opens as for a missed check-in.
	RequestMissed EventType = "call_request_missed"
)

// Event is what node/calls reports through Record.
type Event struct {
	Type        EventType `json:"type"`
	Beneficiary string    `json:"beneficiary"`
	Caregiver   string    `json:"caregiver,omitempty"` // local id or "<peer>/<id>"
	Call        string    `json:"call,omitempty"`
	At          time.Time `json:"at,omitzero"` // zero: now
	// Node is the beneficiary's node when it is another coop's: the event
	// was seen by the caller's node, which keeps only the call (no window).
	Node string `json:"node,omitempty"`
	Name string `json:"name,omitempty"` // the grant's display name, with Node
	// Request is the call request of CallRequested and RequestMissed.
	Request string `json:"request,omitempty"`
}

// Record takes in a call or terminal event: it marks the current window of
// the beneficiary, and keeps answered calls so outcomes can refer to them.
// node/calls calls it; it is safe for concurrent use.
func (s *Service) Record(ctx context.Context, ev Event) error {
	if ev.Beneficiary == "" {
		return fmt.Errorf("escalation event %s without beneficiary", ev.Type)
	}
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	ev.At = ev.At.UTC()
	switch ev.Type {
	case CallRequested:
		s.tellRequest(ctx, ev)
		return nil
	case RequestMissed:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.missRequest(ctx, ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Call != "" && (ev.Type == CallPlaced || ev.Type == CallAnswered || ev.Type == CallUnanswered) {
		c, ok := s.calls.Get(ev.Call)
		if !ok {
			c = CallSeen{ID: ev.Call, Beneficiary: ev.Beneficiary, Caregiver: ev.Caregiver, At: ev.At, Node: ev.Node, Name: ev.Name}
		}
		if c.Beneficiary != ev.Beneficiary || c.Node != ev.Node {
			return fmt.Errorf("call %s: beneficiary does not match", ev.Call)
		}
		if ev.Type == CallAnswered {
			c.Answered = true
		}
		if err := s.calls.Put(ctx, c); err != nil {
			return fmt.Errorf("store call %s: %w", ev.Call, err)
		}
	}
	if ev.Node != "" {
		// Another coop's beneficiary: its windows run on its node.
		return nil
	}
	w, ok := s.currentWindow(ev.Beneficiary, ev.At)
	if !ok {
		return nil
	}
	switch ev.Type {
	case CallPlaced:
		w.Placed = true
	case CallUnanswered:
		w.Placed = true
		w.Unanswered++
		if w.Unanswered >= s.settingsFor(w.Beneficiary).Retries {
			return s.miss(ctx, &w, MissUnanswered)
		}
	case CallAnswered, ImFine:
		w.State, w.How, w.ClosedAt = WindowDone, string(ev.Type), ev.At
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "node", Action: audit.Update, Kind: "checkin", Object: w.ID, Detail: string(ev.Type)})
	}
	if err := s.windows.Put(ctx, w); err != nil {
		return fmt.Errorf("store window %s: %w", w.ID, err)
	}
	s.wake()
	return nil
}

// currentWindow is the pending or open window of the beneficiary that t
// falls into: from an hour before the agreed time to the deadline.
func (s *Service) currentWindow(ben string, t time.Time) (Window, bool) {
	ws := s.windows.Filter(func(w *Window) bool {
		return w.Beneficiary == ben && (w.State == WindowPending || w.State == WindowOpen) &&
			!t.Before(w.Start.Add(-time.Hour)) && !t.After(w.Deadline)
	})
	if len(ws) == 0 {
		return Window{}, false
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start.Compare(b.Start) })
	return ws[0], true
}

// plan stores the windows of the slots starting before now+Horizon. A
// window already stored is kept, and only one that has not begun follows
// its slot (caregiver, end); so planning again is harmless. The windows of
// changed (a schedule id, or "") that have not begun and whose slot is gone
// are dropped: the schedule moved or was deleted. Caller holds s.mu.
func (s *Service) plan(ctx context.Context, now time.Time, changed string) error {
	if s.cfg.Schedules == nil {
		return nil
	}
	slots, err := s.cfg.Schedules.Slots(ctx, now.Add(-s.cfg.Grace), now.Add(s.cfg.Horizon))
	if err != nil {
		return fmt.Errorf("plan check-ins: %w", err)
	}
	planned := map[string]bool{}
	for _, sl := range slots {
		id := sl.Schedule + "@" + sl.Start.UTC().Format("20060102T1504Z")
		planned[id] = true
		deadline := sl.End.UTC().Add(s.cfg.Grace)
		w, ok := s.windows.Get(id)
		switch {
		case !ok:
			w = Window{ID: id, Schedule: sl.Schedule, Beneficiary: sl.Beneficiary, Start: sl.Start.UTC()}
		case w.State != WindowPending && w.State != WindowDropped, !now.Before(w.Start):
			continue // begun: it keeps what it started with
		case w.State == WindowPending && w.Caregiver == sl.Caregiver && w.Deadline.Equal(deadline):
			continue
		}
		w.Caregiver, w.Deadline, w.State, w.ClosedAt = sl.Caregiver, deadline, WindowPending, time.Time{}
		if err := s.windows.Put(ctx, w); err != nil {
			return fmt.Errorf("store window %s: %w", id, err)
		}
	}
	if changed == "" {
		return nil
	}
	for _, w := range s.windows.Filter(func(w *Window) bool {
		return w.Schedule == changed && w.State == WindowPending && now.Before(w.Start) && !planned[w.ID]
	}) {
		w.State, w.ClosedAt = WindowDropped, now
		if err := s.windows.Put(ctx, w); err != nil {
			return fmt.Errorf("drop window %s: %w", w.ID, err)
		}
	}
	return nil
}

// runWindow handles a window whose time has come. Caller holds s.mu.
func (s *Service) runWindow(ctx context.Context, w *Window, now time.Time) error {
	switch w.State {
	case WindowPending:
		if now.Before(w.Start) {
			return nil
		}
		if s.cfg.Presence != nil && !s.cfg.Presence.TerminalOnline(w.Beneficiary) {
			return s.miss(ctx, w, s.offlineReason(w))
		}
		w.State = WindowOpen
		return s.windows.Put(ctx, *w)
	case WindowOpen:
		if now.Before(w.Deadline) {
			return nil
		}
		why := MissNotPlaced
		if s.cfg.CallLog != nil {
			for _, c := range s.cfg.CallLog.Calls(ctx, w.Beneficiary, w.Start.Add(-time.Hour), w.Deadline) {
				if c.Answered {
					w.State, w.How, w.ClosedAt = WindowDone, string(CallAnswered), c.At
					return s.windows.Put(ctx, *w)
				}
				w.Placed = true
			}
		}
		if w.Placed {
			why = MissUnanswered
		}
		return s.miss(ctx, w, why)
	}
	return nil
}

// miss closes a window as missed and opens a case that runs the whole
// chain. Caller holds s.mu.
func (s *Service) miss(ctx context.Context, w *Window, why string) error {
	now := s.now()
	w.State, w.How, w.ClosedAt = WindowMissed, why, now
	p, ok := s.cfg.Dir.Beneficiary(ctx, w.Beneficiary)
	if !ok {
		// Archived since the window was planned: nothing to alert.
		return s.windows.Put(ctx, *w)
	}
	c := Case{ID: newID(), Beneficiary: w.Beneficiary, Municipality: p.Municipality, Caregiver: w.Caregiver,
		Source: "missed", Reason: why, Kind: "missed_checkin", Urgency: "high", Window: w.ID, State: CaseOpen,
		OpenedAt: now, Actions: []Action{{Kind: ActMissed, State: ActionPending}},
		Timeline: []Step{{At: now, By: "node", What: "opened", Detail: "missed " + why}}}
	w.Case = c.ID
	// The window first: once it says missed, a restart cannot open a
	// second case for it.
	if err := s.windows.Put(ctx, *w); err != nil {
		return fmt.Errorf("store window %s: %w", w.ID, err)
	}
	return s.openCase(ctx, nodeActor, &c, p)
}

// Windows lists the check-in windows between from and to (for dashboards
// and tests).
func (s *Service) Windows(from, to time.Time) []Window {
	return s.windows.Filter(func(w *Window) bool { return !w.Start.Before(from) && w.Start.Before(to) })
}

// CallChoice is a recent answered call a caregiver can record an outcome for.
type CallChoice struct {
	CallSeen
	Name string `json:"name"`
}

// OpenCalls lists the caregiver's answered calls of the last week that have
// no outcome yet, newest first: the choices of the outcome form.
func (s *Service) OpenCalls(ctx context.Context, a auth.Actor) []CallChoice {
	admin := a.Role == auth.Admin
	if a.CaregiverID == "" && !admin {
		return []CallChoice{}
	}
	now := s.now()
	from := now.Add(-7 * 24 * time.Hour)
	seen := map[string]CallSeen{}
	mine := func(c *CallSeen) bool {
		if admin {
			return c.Node == "" // the admin records for this coop's people
		}
		return c.Caregiver == a.CaregiverID
	}
	for _, c := range s.calls.Filter(func(c *CallSeen) bool { return c.Answered && mine(c) && !c.At.Before(from) }) {
		seen[c.ID] = c
	}
	out := []CallChoice{}
	names := map[string]string{}
	name := func(ben string) (string, bool) {
		if n, ok := names[ben]; ok {
			return n, n != ""
		}
		p, ok := s.cfg.Dir.Beneficiary(ctx, ben)
		if !ok || !admin && !slices.Contains(p.Caregivers, a.CaregiverID) {
			names[ben] = ""
			return "", false
		}
		names[ben] = p.Name
		return p.Name, true
	}
	for _, c := range seen {
		if c.Node != "" {
			// A call to another coop's beneficiary, placed by this
			// caregiver: the outcome goes to that node.
			if !c.Reported {
				out = append(out, CallChoice{CallSeen: c, Name: c.Name})
			}
			continue
		}
		if len(s.outcomes.Filter(func(o *Outcome) bool { return o.Call == c.ID })) > 0 {
			continue
		}
		if n, ok := name(c.Beneficiary); ok {
			out = append(out, CallChoice{CallSeen: c, Name: n})
		}
	}
	slices.SortFunc(out, func(x, y CallChoice) int { return y.At.Compare(x.At) })
	return out
}
