package calls

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pion/sdp/v3"
)

// Msg is one signaling message, on a WebSocket (JSON text) and inside a
// signal frame between nodes alike.
type Msg struct {
	Type string `json:"type"`
	Call string `json:"call,omitempty"`

	Beneficiary string `json:"beneficiary,omitempty"`
	Node        string `json:"node,omitempty"` // the beneficiary's node; "" = this one

	SDP       string          `json:"sdp,omitempty"`
	Candidate json.RawMessage `json:"candidate,omitempty"`

	Reason    string `json:"reason,omitempty"`
	Countdown int    `json:"countdown,omitempty"`
	From      string `json:"from,omitempty"` // caller's display name
	// Photo is where the terminal reads the caller's photo (a path on
	// this node), on a ring from a caregiver of this node who has one.
	Photo string `json:"photo,omitempty"`

	Credential string        `json:"credential,omitempty"` // terminal hello
	ICE        []ICEServer   `json:"ice,omitempty"`
	Info       *TerminalInfo `json:"info,omitempty"`

	// Between nodes.
	Grant     string       `json:"grant,omitempty"`
	Caregiver string       `json:"caregiver,omitempty"`
	Agenda    []Occurrence `json:"agenda,omitempty"`
}

// TerminalInfo is what the terminal screen shows besides the clock.
type TerminalInfo struct {
	Name      string    `json:"name"` // the beneficiary's display name
	Countdown int       `json:"countdown"`
	Next      *NextCall `json:"next,omitempty"`
}

// NextCall is the next agreed call.
type NextCall struct {
	Start     string `json:"start"` // RFC 3339
	Caregiver string `json:"caregiver"`
}

// Limits of one message.
const (
	MaxMsg       = 64 << 10
	maxSDP       = 32 << 10
	maxCandidate = 2 << 10
)

// Message types.
const (
	TypeHello     = "hello"     // terminal → node: credential; node → both: ICE servers, info
	TypeCall      = "call"      // caregiver → node; node A → node B
	TypeRinging   = "ringing"   // node → caregiver
	TypeRing      = "ring"      // node → terminal
	TypeAccept    = "accept"    // terminal → node (after the countdown)
	TypeAccepted  = "accepted"  // node → caregiver
	TypeOffer     = "offer"     // caregiver → terminal
	TypeAnswer    = "answer"    // terminal → caregiver
	TypeCandidate = "candidate" // both ways
	TypeHangup    = "hangup"    // both ways
	TypeRefused   = "refused"   // node → caregiver: the call may not happen
	TypeError     = "error"     // node → anyone: a message was refused
	TypeFine      = "fine"      // terminal: "Sto bene"
	TypeRequest   = "request"   // terminal: "Chiamatemi"; node → caregivers
	TypeAgenda    = "agenda"    // node A → node B and back
	TypeGrant     = "grant"     // node B → node A: a grant token to keep
	TypeOK        = "ok"
)

var callIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// ErrBadMsg is wrapped by every decoding refusal; the text after it is the
// reason code sent back.
var ErrBadMsg = errors.New("bad message")

func bad(code string) error { return fmt.Errorf("%w: %s", ErrBadMsg, code) }

// reason extracts the code of a refusal for the peer.
func reason(err error) string {
	if s, ok := strings.CutPrefix(err.Error(), ErrBadMsg.Error()+": "); ok {
		return s
	}
	return "bad_message"
}

// DecodeMsg parses and checks one message from the network: size, known
// type, call id shape, SDP that parses, candidates of sane shape.
func DecodeMsg(b []byte) (Msg, error) {
	var m Msg
	if len(b) > MaxMsg {
		return m, bad("too_large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, bad("malformed")
	}
	if dec.More() {
		return m, bad("malformed")
	}
	switch m.Type {
	case TypeHello, TypeCall, TypeRinging, TypeRing, TypeAccept, TypeAccepted, TypeOffer, TypeAnswer,
		TypeCandidate, TypeHangup, TypeRefused, TypeError, TypeFine, TypeRequest, TypeAgenda, TypeGrant, TypeOK:
	default:
		return m, bad("unknown_type")
	}
	if m.Call != "" && !callIDRE.MatchString(m.Call) {
		return m, bad("bad_call_id")
	}
	switch m.Type {
	case TypeCall, TypeRinging, TypeRing, TypeAccept, TypeAccepted, TypeOffer, TypeAnswer, TypeCandidate, TypeHangup:
		if m.Call == "" {
			return m, bad("bad_call_id")
		}
	}
	if len(m.Reason) > 100 || len(m.From) > 100 || len(m.Beneficiary) > 100 || len(m.Node) > 100 ||
		len(m.Credential) > 100 || len(m.Grant) > 4096 || len(m.Caregiver) > 100 || len(m.Photo) > 200 {
		return m, bad("field_too_long")
	}
	if m.Type == TypeOffer || m.Type == TypeAnswer {
		if err := checkSDP(m.SDP); err != nil {
			return m, err
		}
	} else if m.SDP != "" {
		return m, bad("unexpected_sdp")
	}
	if m.Type == TypeCandidate {
		if err := checkCandidate(m.Candidate); err != nil {
			return m, err
		}
	} else if len(m.Candidate) > 0 {
		return m, bad("unexpected_candidate")
	}
	return m, nil
}

func checkSDP(s string) error {
	if s == "" || len(s) > maxSDP {
		return bad("bad_sdp")
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return bad("bad_sdp")
	}
	if len(d.MediaDescriptions) == 0 || len(d.MediaDescriptions) > 16 {
		return bad("bad_sdp")
	}
	return nil
}

// checkCandidate accepts an RTCIceCandidateInit: a candidate line (or the
// empty end-of-candidates), a mid and an m-line index.
func checkCandidate(raw json.RawMessage) error {
	if len(raw) == 0 || len(raw) > maxCandidate {
		return bad("bad_candidate")
	}
	var c struct {
		Candidate        string  `json:"candidate"`
		SDPMid           *string `json:"sdpMid"`
		SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
		UsernameFragment *string `json:"usernameFragment"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return bad("bad_candidate")
	}
	if c.Candidate == "" {
		return nil
	}
	f := strings.Fields(strings.TrimPrefix(c.Candidate, "a="))
	// candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
	if len(f) < 8 || !strings.HasPrefix(f[0], "candidate:") || f[6] != "typ" || strings.ContainsAny(c.Candidate, "\r\n") {
		return bad("bad_candidate")
	}
	return nil
}

func encodeMsg(m Msg) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// Msg holds only strings, numbers and raw JSON that was checked.
		panic(err)
	}
	return b
}
