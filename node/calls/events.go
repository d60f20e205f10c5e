package calls

import (
	"context"
	"time"
)

// EventType says what happened in a call or on a terminal, for the
// escalation layer (check-in windows, outcomes).
type EventType string

// The events the hub reports through Config.OnEvent.
const (
	// EventPlaced: a caregiver rang a terminal (or tried to: busy).
	EventPlaced EventType = "call_placed"
	// EventAnswered: the terminal accepted the call, a check-in.
	EventAnswered EventType = "call_answered"
	// EventUnanswered: the call ended without being answered (rang out,
	// refused by the terminal, hung up while ringing, terminal offline).
	EventUnanswered EventType = "call_unanswered"
	// EventImFine: "Sto bene" pressed on the terminal, a check-in.
	EventImFine EventType = "im_fine"
	// EventScheduleChanged: a schedule was created, edited or deleted
	// (Schedule names it); its check-in windows must be planned again.
	EventScheduleChanged EventType = "schedule_changed"
	// EventTerminalChanged: a beneficiary's terminal came online, went
	// offline, was paired or unpaired.
	EventTerminalChanged EventType = "terminal_changed"
	// EventRequested: "Chiamatemi" on the terminal was stored as a call
	// request (Request names it).
	EventRequested EventType = "call_requested"
	// EventRequestMissed: nobody called back within the coop's time.
	EventRequestMissed EventType = "call_request_missed"
)

// Event is one call, terminal or schedule event. On the beneficiary's node Node is
// empty and Caregiver is a local id or "<peer>/<id>"; on the node of a
// caregiver calling another coop's beneficiary (seen through the relay),
// Node is that coop's peer id, Beneficiary its handle and Name the display
// name the grant carries.
type Event struct {
	Type        EventType
	Call        string
	Beneficiary string
	Caregiver   string
	Node        string
	Name        string
	Schedule    string // of EventScheduleChanged
	Request     string // of EventRequested and EventRequestMissed
	At          time.Time
}

// eventWait bounds one OnEvent call: the hub's goroutine waits for it.
const eventWait = 5 * time.Second

// emit reports ev to Config.OnEvent. It runs on the hub's goroutine, never
// under the hub's lock, so that a check-in is stored before the terminal
// hears "ok".
func (s *Service) emit(ev Event) {
	if s.cfg.OnEvent == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	s.cfg.OnEvent(ctx, ev)
}
