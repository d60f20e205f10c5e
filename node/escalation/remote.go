package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Carrier carries outcome exchanges to another node;
// federation.OutcomeLink implements it.
type Carrier interface {
	Send(ctx context.Context, peer string, req []byte) ([]byte, error)
}

// RemoteOutcome is the request a caregiver's node sends to the node that
// owns the beneficiary. Beneficiary and Call are that node's handles (from
// the grant and the call); Caregiver is the caregiver's id on the sender.
type RemoteOutcome struct {
	V           int      `json:"v"`
	Key         string   `json:"key"`
	Beneficiary string   `json:"beneficiary"`
	Caregiver   string   `json:"caregiver"`
	Call        string   `json:"call"`
	Status      string   `json:"status"`
	Kind        string   `json:"kind,omitempty"`
	Urgency     string   `json:"urgency,omitempty"`
	Note        string   `json:"note,omitempty"`
	Actions     []string `json:"actions,omitempty"`
	NextCall    string   `json:"next_call,omitempty"`
}

// RemoteAnswer is the owner node's answer: what was recorded, or why not.
// Only references go back; the case stays on the owner node.
type RemoteAnswer struct {
	OK      bool              `json:"ok"`
	Outcome string            `json:"outcome,omitempty"`
	Case    string            `json:"case,omitempty"`
	Code    string            `json:"code,omitempty"`
	Message string            `json:"message,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// DecodeRemote reads a request from another node: strict JSON, one object,
// version 1, no unknown fields.
func DecodeRemote(b []byte) (RemoteOutcome, error) {
	var r RemoteOutcome
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return RemoteOutcome{}, fmt.Errorf("decode remote outcome: %w", err)
	}
	if dec.More() {
		return RemoteOutcome{}, errors.New("decode remote outcome: trailing data")
	}
	if r.V != 1 {
		return RemoteOutcome{}, fmt.Errorf("remote outcome version %d", r.V)
	}
	if len(r.Actions) > len(ActionKinds) {
		return RemoteOutcome{}, errors.New("remote outcome: too many actions")
	}
	return r, nil
}

// HandleRemote answers an outcome request from peer. It never fails: every
// refusal is an answer with a code, and audited.
func (s *Service) HandleRemote(ctx context.Context, peer string, req []byte) []byte {
	ans := RemoteAnswer{}
	r, err := DecodeRemote(req)
	if err != nil {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: peer, Role: "remote", Action: audit.Denied, Kind: "outcome", Remote: peer, Detail: "malformed"})
		ans.Code, ans.Message = "malformed", "the request could not be read"
	} else {
		o, err := s.RecordRemoteOutcome(ctx, peer, Outcome{Key: r.Key, Beneficiary: r.Beneficiary, Caregiver: r.Caregiver,
			Call: r.Call, Status: r.Status, Kind: r.Kind, Urgency: r.Urgency, Note: r.Note, Actions: r.Actions, NextCall: r.NextCall})
		if err != nil {
			p := problem.As(err)
			ans.Code, ans.Message, ans.Fields = p.Code, p.Message, p.Fields
		} else {
			ans.OK, ans.Outcome, ans.Case = true, o.ID, o.Case
		}
	}
	b, _ := json.Marshal(ans)
	return b
}

// SendOutcome sends an outcome recorded by a local caregiver for a
// beneficiary of the node peer. Nothing is stored here: the case belongs to
// the other node. The same Key may be sent again after a lost answer.
func SendOutcome(ctx context.Context, l Carrier, a auth.Actor, log *audit.Log, peer string, o Outcome) (RemoteAnswer, error) {
	if a.Role != auth.Caregiver || a.CaregiverID == "" {
		return RemoteAnswer{}, problem.ErrForbidden
	}
	if l == nil {
		return RemoteAnswer{}, problem.New(http.StatusServiceUnavailable, "no_federation", "this node is not in a federation")
	}
	if o.Actions == nil {
		o.Actions = []string{}
	}
	o.Caregiver = a.CaregiverID
	if err := problem.Invalid(o.Check()); err != nil {
		return RemoteAnswer{}, err
	}
	req, err := json.Marshal(RemoteOutcome{V: 1, Key: o.Key, Beneficiary: o.Beneficiary, Caregiver: a.CaregiverID, Call: o.Call,
		Status: o.Status, Kind: o.Kind, Urgency: o.Urgency, Note: o.Note, Actions: o.Actions, NextCall: o.NextCall})
	if err != nil {
		return RemoteAnswer{}, fmt.Errorf("encode outcome: %w", err)
	}
	raw, err := l.Send(ctx, peer, req)
	if err != nil {
		return RemoteAnswer{}, &problem.Error{Status: http.StatusBadGateway, Code: "unreachable",
			Message: "the beneficiary's coop could not be reached; try again, nothing was recorded twice", Err: err}
	}
	var ans RemoteAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return RemoteAnswer{}, &problem.Error{Status: http.StatusBadGateway, Code: "bad_answer", Message: "the beneficiary's coop answered badly", Err: err}
	}
	_ = log.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Create, Kind: "remote_outcome", Object: peer, Remote: a.Remote, Detail: fmt.Sprintf("ok=%v %s", ans.OK, ans.Code)})
	if !ans.OK {
		status := http.StatusUnprocessableEntity
		if ans.Code == "forbidden" {
			status = http.StatusForbidden
		}
		return ans, &problem.Error{Status: status, Code: ans.Code, Message: ans.Message, Fields: ans.Fields}
	}
	return ans, nil
}

// SetCarrier attaches the link to other nodes (node sets it before Start,
// once the federation runs); without it remote outcomes are refused.
func (s *Service) SetCarrier(l Carrier) { s.carrier = l }

// SubmitOutcome records what a local caregiver reports after a call: here
// when node is empty, otherwise at the beneficiary's node through the
// carrier. A
// remote outcome comes back with only the references the owner answered
// (its outcome and case ids); the call is then marked reported here so the
// form stops offering it.
func (s *Service) SubmitOutcome(ctx context.Context, a auth.Actor, node string, o Outcome) (Outcome, error) {
	if node == "" {
		return s.RecordOutcome(ctx, a, o)
	}
	ans, err := SendOutcome(ctx, s.carrier, a, s.cfg.Audit, node, o)
	if err != nil {
		return Outcome{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls.Get(o.Call); ok && c.Node == node && c.Caregiver == a.CaregiverID && !c.Reported {
		c.Reported = true
		if err := s.calls.Put(ctx, c); err != nil {
			// Recorded there all the same; the form may offer the call
			// again and the same key would be answered as a repeat.
			s.log.Warn("remote call not marked reported", "call", o.Call, "err", err)
		}
	}
	return Outcome{ID: ans.Outcome, Case: ans.Case, Key: o.Key, Beneficiary: o.Beneficiary, Caregiver: a.CaregiverID, Call: o.Call,
		Status: o.Status, Kind: o.Kind, Urgency: o.Urgency, Actions: o.Actions}, nil
}
