package requests

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/difronte/difronte/node/outbox"
)

// Wire message types of /difronte/requests/1.
const (
	MsgRequest    = "request"    // home → provider
	MsgOffer      = "offer"      // provider → home
	MsgDecline    = "decline"    // provider → home
	MsgAccept     = "accept"     // home → provider
	MsgWithdraw   = "withdraw"   // home → provider: the request is closed (another offer accepted)
	MsgTransition = "transition" // home → provider: the citizen changes the case
	MsgCase       = "case"       // provider → home: the case as the provider holds it
	MsgMessage    = "message"    // either way
	MsgRead       = "read"       // either way: read receipts
	// Messages on a request, before a case exists (either way).
	MsgRequestMessage = "request_message"
	MsgRequestRead    = "request_read"
)

// WireVersion is the envelope's version.
const WireVersion = 1

// Envelope is one message of the protocol. From must be the sending
// node's peer id as libp2p authenticated it.
type Envelope struct {
	V       int             `json:"v"`
	ID      string          `json:"id"`
	From    string          `json:"from"`
	Type    string          `json:"type"`
	Request string          `json:"request"`
	Body    json.RawMessage `json:"body"`
}

// Wire bodies.
type (
	wireRequest struct {
		Offerings []OfferingRef `json:"offerings"`
		Need      Need          `json:"need"`
		Created   time.Time     `json:"created"`
	}
	wireOffer struct {
		Offer Offer `json:"offer"`
	}
	wireDecline struct {
		Reason string `json:"reason"`
	}
	wireAccept struct {
		Offer string `json:"offer"`
		Case  string `json:"case"`
	}
	wireWithdraw   struct{}
	wireTransition struct {
		Case   string  `json:"case"`
		To     string  `json:"to"`
		Reason string  `json:"reason"`
		Price  float64 `json:"price,omitempty"`
		Unit   string  `json:"unit,omitempty"`
	}
	wireCase struct {
		Case        string    `json:"case"`
		Offer       string    `json:"offer"`
		State       string    `json:"state"`
		Version     uint64    `json:"version"`
		Timeline    []Change  `json:"timeline"`
		Due         []Due     `json:"due"`
		Payments    []Payment `json:"payments"`
		PaymentLink string    `json:"payment_link,omitempty"`
	}
	wireMessage struct {
		Case    string  `json:"case"`
		Message Message `json:"message"`
	}
	wireRead struct {
		Case string    `json:"case"`
		Side string    `json:"side"` // the reader's side
		IDs  []string  `json:"ids"`
		At   time.Time `json:"at"`
	}
	wireRequestMessage struct {
		Message Message `json:"message"`
	}
	wireRequestRead struct {
		Side string    `json:"side"` // the reader's side
		IDs  []string  `json:"ids"`
		At   time.Time `json:"at"`
	}
)

var idPattern = regexp.MustCompile(`^[a-z]{2}-[a-z0-9]{8,40}$`)

// ErrBadMessage is a message that does not decode or validate.
var ErrBadMessage = errors.New("bad requests message")

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

// Decode reads and checks one envelope and its body: the body it returns
// is one of the wire* types, matching the envelope's type.
func Decode(b []byte) (Envelope, any, error) {
	var e Envelope
	if err := strict(b, &e); err != nil {
		return e, nil, err
	}
	if e.V != WireVersion {
		return e, nil, bad("version %d", e.V)
	}
	if !idPattern.MatchString(e.ID) || !idPattern.MatchString(e.Request) {
		return e, nil, bad("bad id")
	}
	if e.From == "" || len(e.From) > 128 {
		return e, nil, bad("bad sender")
	}
	body, err := decodeBody(e.Type, e.Body)
	if err != nil {
		return e, nil, err
	}
	return e, body, nil
}

func decodeBody(typ string, raw json.RawMessage) (any, error) {
	var v any
	switch typ {
	case MsgRequest:
		v = &wireRequest{}
	case MsgOffer:
		v = &wireOffer{}
	case MsgDecline:
		v = &wireDecline{}
	case MsgAccept:
		v = &wireAccept{}
	case MsgWithdraw:
		v = &wireWithdraw{}
	case MsgTransition:
		v = &wireTransition{}
	case MsgCase:
		v = &wireCase{}
	case MsgMessage:
		v = &wireMessage{}
	case MsgRead:
		v = &wireRead{}
	case MsgRequestMessage:
		v = &wireRequestMessage{}
	case MsgRequestRead:
		v = &wireRequestRead{}
	default:
		return nil, bad("unknown type")
	}
	if len(raw) == 0 {
		return nil, bad("no body")
	}
	if err := strict(raw, v); err != nil {
		return nil, err
	}
	if err := validateBody(v); err != nil {
		return nil, err
	}
	return v, nil
}

func validateBody(v any) error {
	switch b := v.(type) {
	case *wireRequest:
		if len(b.Offerings) == 0 || len(b.Offerings) > MaxOfferings {
			return bad("offerings")
		}
		for _, o := range b.Offerings {
			if o.ID == "" || len(o.ID) > 64 || len(o.Name) > 200 || len(o.Category) > 100 {
				return bad("offering")
			}
		}
		if f := checkNeed(b.Need); f != "" {
			return bad("need: %s", f)
		}
	case *wireOffer:
		if f := checkOffer(b.Offer); f != "" || !idPattern.MatchString(b.Offer.ID) {
			return bad("offer: %s", f)
		}
	case *wireDecline:
		if b.Reason == "" || len([]rune(b.Reason)) > maxReason {
			return bad("reason")
		}
	case *wireAccept:
		if !idPattern.MatchString(b.Offer) || !idPattern.MatchString(b.Case) {
			return bad("accept")
		}
	case *wireTransition:
		if !idPattern.MatchString(b.Case) || allowedFrom[b.To] == nil || len([]rune(b.Reason)) > maxReason {
			return bad("transition")
		}
	case *wireCase:
		if !idPattern.MatchString(b.Case) || len(b.Timeline) > 10000 || len(b.Payments) > 10000 || len(b.Due) > 10000 {
			return bad("case")
		}
		switch b.State {
		case CaseActive, CaseSuspended, CaseInterrupted, CaseCompleted, CaseRefused:
		default:
			return bad("case state")
		}
		if b.PaymentLink != "" && checkLink(b.PaymentLink) != "" {
			return bad("payment link")
		}
	case *wireMessage:
		if !idPattern.MatchString(b.Case) || !idPattern.MatchString(b.Message.ID) || (b.Message.Side != SideCitizen && b.Message.Side != SideProvider) {
			return bad("message")
		}
		if f := checkMessage(b.Message.Text, b.Message.Attachment); f != "" {
			return bad("message: %s", f)
		}
	case *wireRead:
		if !idPattern.MatchString(b.Case) || len(b.IDs) == 0 || len(b.IDs) > 1000 || (b.Side != SideCitizen && b.Side != SideProvider) {
			return bad("read")
		}
	case *wireRequestMessage:
		m := b.Message
		if !idPattern.MatchString(m.ID) || (m.Side != SideCitizen && m.Side != SideProvider) || m.Provider != "" || m.Author != "" || m.ReadAt != nil {
			return bad("request message")
		}
		if f := checkMessage(m.Text, m.Attachment); f != "" {
			return bad("request message: %s", f)
		}
	case *wireRequestRead:
		if len(b.IDs) == 0 || len(b.IDs) > maxRequestMessages || (b.Side != SideCitizen && b.Side != SideProvider) {
			return bad("request read")
		}
	}
	return nil
}

// encode builds an envelope.
func encode(id, from, typ, request string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{V: WireVersion, ID: id, From: from, Type: typ, Request: request, Body: raw})
}

// Answer is the receiver's reply to one message.
type Answer = outbox.Answer
