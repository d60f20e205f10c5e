package requests

import (
	"log/slog"
	"slices"
	"time"
)

// MaxOfferings bounds the offerings of one request.
const MaxOfferings = 5

// Request states, as the home node sees a delivery and the provider its
// inbox entry.
const (
	StateOpen     = "open"     // waiting for the provider's answer
	StateOffered  = "offered"  // the provider made an offer
	StateDeclined = "declined" // the provider declined
	StateAccepted = "accepted" // the citizen accepted this provider's offer
	StateClosed   = "closed"   // the citizen accepted another provider's offer
)

// OfferingRef names one requested offering of the federated catalogue.
type OfferingRef struct {
	Publisher string `json:"publisher"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Category  string `json:"category"`
}

// Need is what the citizen states and agrees to share with the providers
// they chose.
type Need struct {
	For          string `json:"for"` // "self" or the relative's description
	Municipality string `json:"municipality"`
	Address      string `json:"address,omitempty"`
	Start        string `json:"start"` // YYYY-MM-DD
	When         string `json:"when,omitempty"`
	Notes        string `json:"notes,omitempty"`
	CitizenName  string `json:"citizen_name,omitempty"`
}

// Delivery is, on the home node, one provider's part of a request.
type Delivery struct {
	Provider  string    `json:"provider"`
	Offerings []string  `json:"offerings"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Flagged   bool      `json:"flagged,omitempty"` // unanswered after the configured time
	At        time.Time `json:"at"`
}

// Request is a citizen's request. On the home node it holds every
// provider's delivery; on a provider's node only that provider's
// offerings, with Home the citizen's node.
type Request struct {
	ID        string        `json:"id"`
	Home      string        `json:"home"`
	Citizen   string        `json:"citizen,omitempty"` // the account, on the home node only
	Offerings []OfferingRef `json:"offerings"`
	Need
	Consent    bool       `json:"consent"`
	State      string     `json:"state"`
	Deliveries []Delivery `json:"deliveries,omitempty"` // home node
	Reason     string     `json:"reason,omitempty"`     // provider: the decline's reason
	Offers     []Offer    `json:"offers"`
	Case       string     `json:"case,omitempty"`
	Reminded   bool       `json:"reminded,omitempty"` // provider: reminder sent
	// Messages exchanged before a case exists: on the home node every
	// provider's thread (Message.Provider names it), on a provider's
	// node its own.
	Messages []Message `json:"messages,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// LogValue keeps the need out of logs.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.ID) }

// Offer is a provider's answer to a request.
type Offer struct {
	ID         string    `json:"id"`
	Request    string    `json:"request"`
	Provider   string    `json:"provider"`
	Price      float64   `json:"price"`
	Unit       string    `json:"unit"`
	Start      string    `json:"start"`
	Conditions string    `json:"conditions,omitempty"`
	ValidUntil string    `json:"valid_until"`
	State      string    `json:"state"` // open, accepted, withdrawn
	Created    time.Time `json:"created"`
}

// Case states. "renewed" is a transition, not a state: it opens a new
// period and leaves the case active.
const (
	CaseActive      = "active"
	CaseSuspended   = "suspended"
	CaseInterrupted = "interrupted"
	CaseCompleted   = "completed"
	CaseRefused     = "refused" // the provider could not open it (offer no longer valid)
	ToRenewed       = "renewed"
)

// allowedFrom is the transition table: target → states it may start from.
var allowedFrom = map[string][]string{
	CaseSuspended:   {CaseActive},
	CaseActive:      {CaseSuspended},
	ToRenewed:       {CaseActive, CaseSuspended, CaseCompleted},
	CaseInterrupted: {CaseActive, CaseSuspended},
	CaseCompleted:   {CaseActive, CaseSuspended},
}

// Change is one line of a case's timeline.
type Change struct {
	At     time.Time `json:"at"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
	Side   string    `json:"side"` // citizen or provider
}

// Due is one period's amount, from the accepted offer or a renewal.
type Due struct {
	From   string  `json:"from"`
	Amount float64 `json:"amount"`
	Unit   string  `json:"unit"`
}

// Payment is one payment the provider recorded, with its receipt.
type Payment struct {
	ID      string    `json:"id"`
	Amount  float64   `json:"amount"`
	Method  string    `json:"method,omitempty"`
	Receipt string    `json:"receipt"`
	At      time.Time `json:"at"`
}

// Attachment is a message's file: PDF, JPEG or PNG, checked by its bytes.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data"`
}

// Message is one message of a case or of a request.
type Message struct {
	ID   string `json:"id"`
	Side string `json:"side"`
	// Provider is, on the home node, the provider node of a request's
	// message thread (a request goes to up to five providers, and each
	// sees only its own thread). Never on the wire.
	Provider   string      `json:"provider,omitempty"`
	Author     string      `json:"author,omitempty"`
	For        string      `json:"for,omitempty"` // the citizen an operator wrote for (home node only)
	Text       string      `json:"text"`
	Attachment *Attachment `json:"attachment,omitempty"`
	At         time.Time   `json:"at"`
	ReadAt     *time.Time  `json:"read_at,omitempty"`
}

// Case is a pratica: authoritative on the provider's node (Version counts
// its changes), mirrored on the home node.
type Case struct {
	ID          string        `json:"id"`
	Request     string        `json:"request"`
	Offer       string        `json:"offer"`
	Home        string        `json:"home"`
	Provider    string        `json:"provider"`
	Citizen     string        `json:"citizen,omitempty"` // home node only
	Need        Need          `json:"need"`
	Offerings   []OfferingRef `json:"offerings"`
	State       string        `json:"state"`
	Version     uint64        `json:"version"`
	Pending     bool          `json:"pending,omitempty"` // home: a change not yet confirmed by the provider
	Timeline    []Change      `json:"timeline"`
	Due         []Due         `json:"due"`
	Payments    []Payment     `json:"payments"`
	PaymentLink string        `json:"payment_link,omitempty"`
	Messages    []Message     `json:"messages"`
	Created     time.Time     `json:"created"`
}

// LogValue keeps the need out of logs.
func (c Case) LogValue() slog.Value { return slog.StringValue(c.ID) }

// Sides of a case.
const (
	SideCitizen  = "citizen"
	SideProvider = "provider"
)

// NextStates lists the transitions the table allows from state.
func NextStates(state string) []string {
	var out []string
	for _, to := range []string{CaseSuspended, CaseActive, ToRenewed, CaseInterrupted, CaseCompleted} {
		for _, from := range allowedFrom[to] {
			if from == state {
				out = append(out, to)
			}
		}
	}
	return out
}

// withdrawOpen withdraws every offer still open: the request closed
// without them (declined, settled elsewhere, or unknown to its home node).
func withdrawOpen(offers []Offer) {
	for i := range offers {
		if offers[i].State == StateOpen {
			offers[i].State = "withdrawn"
		}
	}
}

// Clone is a copy of r that shares no slice with it (store.Cloner): the
// service changes offers and deliveries in place before writing r back.
func (r *Request) Clone() Request {
	c := *r
	c.Offerings = slices.Clone(r.Offerings)
	c.Deliveries = slices.Clone(r.Deliveries)
	for i := range c.Deliveries {
		c.Deliveries[i].Offerings = slices.Clone(c.Deliveries[i].Offerings)
	}
	c.Offers = slices.Clone(r.Offers)
	c.Messages = slices.Clone(r.Messages)
	return c
}

// Clone is a copy of c that shares no slice with it (store.Cloner).
func (c *Case) Clone() Case {
	d := *c
	d.Offerings = slices.Clone(c.Offerings)
	d.Timeline = slices.Clone(c.Timeline)
	d.Due = slices.Clone(c.Due)
	d.Payments = slices.Clone(c.Payments)
	d.Messages = slices.Clone(c.Messages)
	return d
}
