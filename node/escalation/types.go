package escalation

import (
	"log/slog"
	"slices"
	"time"

	"github.com/difronte/difronte/schema"
)

// Problem kinds a caregiver can report.
var Kinds = []string{"health", "loneliness", "home", "food", "money", "safety", "other"}

// Urgencies, from least to most urgent.
var Urgencies = []string{"low", "medium", "high", "critical"}

// Action kinds a caregiver can choose for a problem.
const (
	ActProposeServices = "propose_services"
	ActAlertSocial     = "alert_social"
	ActAlertFamily     = "alert_family"
	ActAlertCaregivers = "alert_caregivers"
	ActEmergency       = "emergency"
	// ActMissed is the action of a case the node opened itself.
	ActMissed = "missed_checkin"
)

// ActionKinds are the actions a caregiver may choose.
var ActionKinds = []string{ActProposeServices, ActAlertSocial, ActAlertFamily, ActAlertCaregivers, ActEmergency}

// Outcome statuses.
const (
	StatusWell    = "well"
	StatusProblem = "problem"
)

// Outcome is what a caregiver records after a call.
type Outcome struct {
	ID          string   `json:"id"`
	Key         string   `json:"key"` // idempotency key chosen by the client
	Beneficiary string   `json:"beneficiary"`
	Caregiver   string   `json:"caregiver"` // local id, or "<peer>/<id>"
	Call        string   `json:"call"`
	Status      string   `json:"status"`
	Kind        string   `json:"kind,omitempty"`
	Urgency     string   `json:"urgency,omitempty"`
	Note        string   `json:"note,omitempty"`
	Actions     []string `json:"actions"`
	// NextCall is the next appointment the caregiver confirmed, if any.
	NextCall string    `json:"next_call,omitempty"`
	Case     string    `json:"case,omitempty"`
	By       string    `json:"by"` // username, or "<peer>/<caregiver>"
	At       time.Time `json:"at"`
}

// LogValue keeps the note out of logs.
func (o Outcome) LogValue() slog.Value { return slog.GroupValue(slog.String("id", o.ID)) }

// Check returns field errors (field -> code).
func (o *Outcome) Check() map[string]string {
	bad := map[string]string{}
	if o.Beneficiary == "" {
		bad["beneficiary"] = "required"
	}
	if o.Call == "" {
		bad["call"] = "required"
	}
	if o.Key == "" || len(o.Key) > 100 {
		bad["key"] = "required"
	}
	if code := schema.TextFault(o.Note, 2000, true); code != "" {
		bad["note"] = code
	}
	if o.Actions == nil {
		o.Actions = []string{}
	}
	switch o.Status {
	case StatusWell:
		if o.Kind != "" || len(o.Actions) > 0 {
			bad["status"] = "well_with_problem"
		}
	case StatusProblem:
		if !slices.Contains(Kinds, o.Kind) {
			bad["kind"] = "invalid"
		}
		if !slices.Contains(Urgencies, o.Urgency) {
			bad["urgency"] = "invalid"
		}
		for _, a := range o.Actions {
			if !slices.Contains(ActionKinds, a) {
				bad["actions"] = "invalid"
			}
		}
		if len(o.Actions) > len(ActionKinds) {
			bad["actions"] = "invalid"
		}
	default:
		bad["status"] = "invalid"
	}
	return bad
}

// Case states.
const (
	CaseOpen   = "open"
	CaseClosed = "closed"
)

// Action states.
const (
	ActionPending   = "pending"
	ActionDone      = "done"
	ActionNoContact = "no_contact" // nobody in the chain to alert: the admin must act
)

// Action is one thing to do for a case, tracked until done.
type Action struct {
	Kind      string     `json:"kind"`
	State     string     `json:"state"`
	Alert     string     `json:"alert,omitempty"`
	Proposals []Proposal `json:"proposals,omitempty"`
	DoneAt    time.Time  `json:"done_at,omitzero"`
	DoneBy    string     `json:"done_by,omitempty"`
}

// Step is one line of a case's timeline.
type Step struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"` // username, "node" for the node itself
	What   string    `json:"what"`
	Detail string    `json:"detail,omitempty"` // never personal data
}

// Case is an escalation opened by a problem or a missed check-in.
type Case struct {
	ID           string    `json:"id"`
	Beneficiary  string    `json:"beneficiary"`
	Municipality string    `json:"municipality"`
	Caregiver    string    `json:"caregiver,omitempty"`
	Source       string    `json:"source"` // outcome or missed
	Reason       string    `json:"reason,omitempty"`
	Kind         string    `json:"kind"`
	Urgency      string    `json:"urgency"`
	Outcome      string    `json:"outcome,omitempty"`
	Window       string    `json:"window,omitempty"`
	Request      string    `json:"request,omitempty"` // the call request nobody called back
	State        string    `json:"state"`
	Actions      []Action  `json:"actions"`
	Timeline     []Step    `json:"timeline"`
	OpenedAt     time.Time `json:"opened_at"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
}

// Clone is a copy of c that shares no slice with it (store.Cloner): an
// action is marked done in place before the case is written back, which
// must not show in memory before the write, nor after a failed one.
func (c *Case) Clone() Case {
	d := *c
	d.Actions = slices.Clone(c.Actions)
	for i := range d.Actions {
		d.Actions[i].Proposals = slices.Clone(d.Actions[i].Proposals)
	}
	d.Timeline = slices.Clone(c.Timeline)
	return d
}

// Link is one step of a beneficiary's escalation chain. An alert keeps
// only Kind, ID and Channel (links.go); Name and To are in the settings
// and the registry.
type Link struct {
	Kind    string `json:"kind"`         // a contact kind, or "caregiver" / "coop"
	ID      string `json:"id,omitempty"` // opaque, derived: what records name it by
	Name    string `json:"name"`         // shown to the coop, never sent to others
	Channel string `json:"channel"`      // inapp, email, webhook
	To      string `json:"to"`           // username, e-mail address or webhook URL
	// Lang is the language of e-mail and webhook texts to this link ("it",
	// "en"); empty: the coop's. In-app messages use the account's.
	Lang string `json:"lang,omitempty"`
}

// Channels of a link.
var Channels = []string{"inapp", "email", "webhook"}

// Langs a link may be written to in ("": the coop's).
var Langs = []string{"", "it", "en"}

// Settings are a beneficiary's escalation settings, chosen by the coop.
type Settings struct {
	Beneficiary string `json:"beneficiary"`
	Chain       []Link `json:"chain"`
	// Label is how alerts name the beneficiary (e.g. initials); empty: only
	// the case reference.
	Label string `json:"label,omitempty"`
	// RepeatAfter is the wait before an unacknowledged alert is sent again,
	// Repeats how many times, EscalateAfter the wait before the next link.
	RepeatAfter   time.Duration `json:"repeat_after"`
	Repeats       int           `json:"repeats"`
	EscalateAfter time.Duration `json:"escalate_after"`
	// Retries is how many unanswered calls in a window make it missed.
	Retries int `json:"retries"`
}

// Check returns field errors.
func (s *Settings) Check() map[string]string {
	bad := map[string]string{}
	if s.Beneficiary == "" {
		bad["beneficiary"] = "required"
	}
	if len(s.Chain) > 20 {
		bad["chain"] = "too_many"
	}
	for _, l := range s.Chain {
		if !slices.Contains(Channels, l.Channel) || l.To == "" || len(l.To) > 300 || schema.TextFault(l.Name, 200, false) != "" ||
			!slices.Contains(Langs, l.Lang) {
			bad["chain"] = "invalid"
		}
	}
	if code := schema.TextFault(s.Label, 40, false); code != "" {
		bad["label"] = code
	}
	if s.RepeatAfter < 0 || s.EscalateAfter < 0 || s.Repeats < 0 || s.Repeats > 10 || s.Retries < 0 || s.Retries > 10 {
		bad["delays"] = "invalid"
	}
	return bad
}

// Alert states.
const (
	AlertActive    = "active"
	AlertAcked     = "acked"
	AlertExhausted = "exhausted" // every link tried, nobody acknowledged
)

// Alert is a notification that needs acknowledgement; it walks its links.
type Alert struct {
	ID          string    `json:"id"`
	Case        string    `json:"case"`
	Beneficiary string    `json:"beneficiary"`
	Action      string    `json:"action"`
	Links       []Link    `json:"links"`
	Index       int       `json:"index"` // the link being alerted
	Sent        int       `json:"sent"`  // sends to the current link
	NextAt      time.Time `json:"next_at,omitzero"`
	State       string    `json:"state"`
	// TokenHash is the comma-separated token hashes of alerts stored
	// before Tokens; read only, never shown.
	TokenHash string     `json:"token_hash"`
	Tokens    []AckToken `json:"tokens,omitempty"` // never shown
	AckedBy   string     `json:"acked_by,omitempty"`
	AckedAt   time.Time  `json:"acked_at,omitzero"`
	CreatedAt time.Time  `json:"created_at"`
}

// Clone is a copy of al that shares no slice with it (store.Cloner): a
// send drops expired tokens in place (slices.DeleteFunc) and the links'
// migration rewrites links in place before the alert is written back,
// which must not show in memory before the write, nor after a failed one.
func (al *Alert) Clone() Alert {
	d := *al
	d.Links = slices.Clone(al.Links)
	d.Tokens = slices.Clone(al.Tokens)
	return d
}

// AckToken is one acknowledgement link sent, kept hashed. It works once
// (the alert it acknowledges is then acked) and until Expires.
type AckToken struct {
	Hash    string    `json:"hash"`
	Link    string    `json:"link"` // the link it was sent to, as Link.Ref
	Expires time.Time `json:"expires"`
}

// Public is the alert as the API shows it: no token hashes.
func (a Alert) Public() Alert {
	a.TokenHash, a.Tokens = "", nil
	return a
}

// Window states.
const (
	WindowPending = "pending" // before the agreed time
	WindowOpen    = "open"    // the agreed time has come
	WindowDone    = "done"    // checked in
	WindowMissed  = "missed"
	// WindowDropped: its schedule moved or was deleted before it began.
	WindowDropped = "dropped"
)

// Window is one agreed check-in, persisted so a restart resumes it.
type Window struct {
	ID          string    `json:"id"` // schedule + start
	Schedule    string    `json:"schedule"`
	Beneficiary string    `json:"beneficiary"`
	Caregiver   string    `json:"caregiver"`
	Start       time.Time `json:"start"`
	Deadline    time.Time `json:"deadline"`
	State       string    `json:"state"`
	Unanswered  int       `json:"unanswered"`
	Placed      bool      `json:"placed"`
	How         string    `json:"how,omitempty"` // answered, im_fine; or the miss reason
	Case        string    `json:"case,omitempty"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
}

// Miss reasons.
const (
	MissOffline    = "terminal_offline"
	MissNotOn      = "terminal_not_on" // its PC did not switch itself on
	MissUnanswered = "unanswered"
	MissNotPlaced  = "not_placed"
	// MissRequest: "Chiamatemi" was not called back in the coop's time.
	MissRequest = "call_request"
)
