package escalation

import (
	"context"
	"time"
)

// Contact is someone alerted about a beneficiary, as the registry keeps it.
type Contact struct {
	Kind     string `json:"kind"` // family, gp, social_services, emergency, neighbour, other
	Name     string `json:"name"`
	Relation string `json:"relation,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	Lang     string `json:"lang,omitempty"` // of its alert e-mails; "": the coop's
}

// Person is what escalation needs of a beneficiary of this node.
type Person struct {
	ID           string
	Name         string
	Address      string
	Municipality string // ISTAT code
	BirthYear    int
	Phone        string
	Fragility    []string
	Notes        string
	Caregivers   []string // caregiver ids
	Contacts     []Contact
}

// Directory is the node's private registry as escalation sees it; node
// adapts node/care to it.
type Directory interface {
	Beneficiary(ctx context.Context, id string) (Person, bool)
	// CaregiverUser is the account of a local caregiver, for in-app alerts.
	CaregiverUser(ctx context.Context, caregiverID string) (username string, ok bool)
	// Admins are the accounts told when a chain runs out.
	Admins(ctx context.Context) []string
}

// Slot is one agreed check-in call, as the schedules expand it.
type Slot struct {
	Schedule    string
	Beneficiary string
	Caregiver   string
	Start, End  time.Time
}

// Schedules is the source of agreed check-in times; node/calls implements it
// (an adapter over calls.Agenda in node).
type Schedules interface {
	Slots(ctx context.Context, from, to time.Time) ([]Slot, error)
}

// Presence says whether a beneficiary's terminal is connected to the node
// right now; node/calls's hub implements it.
type Presence interface {
	TerminalOnline(beneficiary string) bool
}

// Grants says whether a caregiver of another node holds a valid call grant
// for a beneficiary of this node; node/calls implements it.
type Grants interface {
	Granted(ctx context.Context, peer, caregiver, beneficiary string) bool
}

// Message is one notification to deliver; node/notify implements Notifier.
type Message struct {
	// ID makes delivery idempotent: the same ID is delivered once.
	ID      string
	Channel string // inapp, email, webhook
	To      string // username, e-mail address or URL
	Subject string
	Body    string
	// Ref is the alert the message belongs to; AckURL acknowledges it.
	Ref    string
	AckURL string
	// Data is the structured form sent to webhooks (no personal data).
	Data map[string]string
	// Link is the page of the app the message is about (in-app only);
	// Beneficiary the opaque id of the person, whom the inbox names to
	// a reader allowed to see them. Neither is sent anywhere.
	Link        string
	Beneficiary string
}

// Notifier queues messages for delivery with retries.
type Notifier interface {
	Enqueue(ctx context.Context, m Message) error
}

// CallLog is node/calls's record of calls, for a node where calls does not
// report events through Record: outcomes are checked against it and a
// window's deadline looks at it before calling the check-in missed.
type CallLog interface {
	Calls(ctx context.Context, beneficiary string, from, to time.Time) []CallSeen
}
