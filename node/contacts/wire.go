package contacts

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/schema"
)

// Wire message types of /difronte/contacts/1.
const (
	MsgAsk     = "ask"     // home → coop: the family asks to meet the worker
	MsgAsked   = "asked"   // coop → home: the coop has asked the worker
	MsgAccept  = "accept"  // coop → home: the worker accepts; her contacts
	MsgDecline = "decline" // coop → home: the worker declines (final)
	MsgFamily  = "family"  // home → coop: after an accept, the family's contacts
)

// WireVersion is the envelope's version.
const WireVersion = 1

// Envelope is one message. From must be the sending node's peer id as
// libp2p authenticated it.
type Envelope struct {
	V       int             `json:"v"`
	ID      string          `json:"id"`
	From    string          `json:"from"`
	Type    string          `json:"type"`
	Contact string          `json:"contact"`
	Body    json.RawMessage `json:"body"`
}

// Need is what the coop is told of the family's need: nothing that names
// the family.
type Need struct {
	Work         schema.WorkKind `json:"work"`
	HoursPerWeek int             `json:"hours_per_week"`
	LiveIn       bool            `json:"live_in,omitempty"`
	Languages    []string        `json:"languages,omitempty"`
	Municipality string          `json:"municipality"`
	StartDate    string          `json:"start_date,omitempty"`
}

// Person is one side's contacts, shared only after the worker accepted.
type Person struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Wire bodies.
type (
	wireAsk struct {
		Profile string    `json:"profile"`
		Need    Need      `json:"need"`
		Message string    `json:"message,omitempty"`
		Created time.Time `json:"created"`
	}
	wireEmpty  struct{}
	wireAccept struct {
		Worker Person `json:"worker"`
	}
	wireFamily struct {
		Family Person `json:"family"`
	}
)

// MaxMessage bounds the family's message to the coop, in code points.
const MaxMessage = 1000

var (
	msgID     = regexp.MustCompile(`^ms-[a-z0-9]{8,40}$`)
	contactID = regexp.MustCompile(`^ct-[a-z0-9]{8,40}$`)
	profileID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ErrBadMessage is a message that does not decode or validate.
var ErrBadMessage = errors.New("bad contacts message")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadMessage, fmt.Sprintf(format, a...))
}

// strict decodes b into v: one JSON value, no unknown member, nothing after.
func strict(b []byte, v any) error {
	if err := outbox.DecodeStrict(b, v); err != nil {
		return bad("%v", err)
	}
	return nil
}

// Decode reads and checks one envelope and its body, one of the wire*
// types matching the envelope's type.
func Decode(b []byte) (Envelope, any, error) {
	var e Envelope
	if len(b) > maxWire {
		return e, nil, bad("too long")
	}
	if err := strict(b, &e); err != nil {
		return e, nil, err
	}
	if e.V != WireVersion {
		return e, nil, bad("version %d", e.V)
	}
	if !msgID.MatchString(e.ID) || !contactID.MatchString(e.Contact) {
		return e, nil, bad("bad id")
	}
	if e.From == "" || len(e.From) > 128 {
		return e, nil, bad("bad sender")
	}
	var v any
	switch e.Type {
	case MsgAsk:
		v = &wireAsk{}
	case MsgAsked, MsgDecline:
		v = &wireEmpty{}
	case MsgAccept:
		v = &wireAccept{}
	case MsgFamily:
		v = &wireFamily{}
	default:
		return e, nil, bad("unknown type")
	}
	if len(e.Body) == 0 {
		return e, nil, bad("no body")
	}
	if err := strict(e.Body, v); err != nil {
		return e, nil, err
	}
	if err := validateBody(v); err != nil {
		return e, nil, err
	}
	return e, v, nil
}

// maxWire is the largest message read (the link's frame limit).
const maxWire = 16 << 10

func validateBody(v any) error {
	switch b := v.(type) {
	case *wireAsk:
		if !profileID.MatchString(b.Profile) {
			return bad("profile")
		}
		if f := checkNeed(b.Need); f != "" {
			return bad("need: %s", f)
		}
		if f := checkMessage(b.Message); f != "" {
			return bad("message: %s", f)
		}
	case *wireAccept:
		if f := checkPerson(b.Worker); f != "" {
			return bad("worker: %s", f)
		}
	case *wireFamily:
		if f := checkPerson(b.Family); f != "" {
			return bad("family: %s", f)
		}
	}
	return nil
}

// checkNeed returns the first fault of n, or "".
func checkNeed(n Need) string {
	switch {
	case !n.Work.Valid():
		return "work"
	case n.HoursPerWeek < 1 || n.HoursPerWeek > schema.MaxHoursPerWeek:
		return "hours_per_week"
	case !schema.ValidMunicipality(n.Municipality):
		return "municipality"
	case len(n.Languages) > schema.MaxWorkerLanguages:
		return "languages"
	}
	for _, l := range n.Languages {
		if len(l) < 2 || len(l) > 12 || schema.TextFault(l, 12, false) != "" {
			return "languages"
		}
	}
	if n.StartDate != "" {
		if _, err := time.Parse(time.DateOnly, n.StartDate); err != nil {
			return "start_date"
		}
	}
	return ""
}

// checkMessage: short, clean, and no contact hidden in it (contacts are
// exchanged only after the worker accepts).
func checkMessage(m string) string {
	if code := schema.TextFault(m, MaxMessage, true); code != "" {
		return code
	}
	if what := schema.ContactHidden(m); what != "" {
		return schema.CodeContactHidden
	}
	return ""
}

// checkPerson returns the first fault of p, or "".
func checkPerson(p Person) string {
	if p.Name == "" {
		return "name"
	}
	if p.Phone == "" && p.Email == "" {
		return "phone or email"
	}
	for field, v := range map[string]struct {
		s   string
		max int
	}{"name": {p.Name, 200}, "phone": {p.Phone, 40}, "email": {p.Email, 200}} {
		if schema.TextFault(v.s, v.max, false) != "" {
			return field
		}
	}
	return ""
}

// encode builds an envelope.
func encode(id, from, typ, contact string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{V: WireVersion, ID: id, From: from, Type: typ, Contact: contact, Body: raw})
}

// Answer is the receiver's reply to one message.
type Answer = outbox.Answer
