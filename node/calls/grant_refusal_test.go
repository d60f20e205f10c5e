package calls

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// pipeStream is one signal stream from another node: what the test queues
// is read by the service, what the service writes is kept.
type pipeStream struct {
	peer string
	in   chan []byte
	out  chan Msg
}

func newPipeStream(peer string, msgs ...Msg) *pipeStream {
	st := &pipeStream{peer: peer, in: make(chan []byte, len(msgs)), out: make(chan Msg, 16)}
	for _, m := range msgs {
		st.in <- encodeMsg(m)
	}
	close(st.in)
	return st
}

func (p *pipeStream) Read() ([]byte, error) {
	b, ok := <-p.in
	if !ok {
		return nil, io.EOF
	}
	return b, nil
}

func (p *pipeStream) Write(b []byte) error {
	m, err := DecodeMsg(b)
	if err != nil {
		return err
	}
	p.out <- m
	return nil
}

func (p *pipeStream) Close() error { return nil }
func (p *pipeStream) Reset()       {}
func (p *pipeStream) Peer() string { return p.peer }

// answer is the first message the service wrote back.
func (p *pipeStream) answer(t *testing.T) Msg {
	t.Helper()
	select {
	case m := <-p.out:
		return m
	default:
		t.Fatal("the service answered nothing")
		return Msg{}
	}
}

// grantPair is the beneficiary's node (issuer) and the caregiver's node
// (holder), as two services, with a grant from one to the other for the
// caregiver cg1.
type grantPair struct {
	clk                    *fakeclock.Clock
	issuer, holder         *Service
	issuerPeer, holderPeer string
	grant                  Grant
}

func newGrantPair(t *testing.T) *grantPair {
	t.Helper()
	p := &grantPair{clk: fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	p.issuer, p.issuerPeer = newService(t, p.clk)
	p.holder, p.holderPeer = newService(t, p.clk)
	var err error
	p.grant, err = p.issuer.IssueGrant(context.Background(), adminActor, Grant{Beneficiary: "ben1", Node: p.holderPeer, Caregiver: "cg1", Expires: p.clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGrantDoesNotCoverAnotherBeneficiary: a valid grant for ben1, sent by
// the node it was issued to for the caregiver it names, does not let that
// caregiver ring another beneficiary.
func TestGrantDoesNotCoverAnotherBeneficiary(t *testing.T) {
	p := newGrantPair(t)
	st := newPipeStream(p.holderPeer, Msg{Type: TypeCall, Call: "call-other-ben", Beneficiary: "ben2", Grant: p.grant.Token, Caregiver: "cg1", From: "Giulia"})
	p.issuer.ServeStream(st)
	m := st.answer(t)
	if m.Type != TypeRefused || m.Reason != ErrNoGrant.Error() || m.Call != "call-other-ben" {
		t.Fatalf("call to another beneficiary under a grant for ben1: got %+v, want refused with %q", m, ErrNoGrant)
	}
	if _, ok := p.issuer.Record("call-other-ben"); ok {
		t.Fatal("the refused call left a call record: it reached the hub")
	}

	// The same stream for the beneficiary the grant names gets past the
	// grant check (the terminal is offline here, so the hub refuses).
	st = newPipeStream(p.holderPeer, Msg{Type: TypeCall, Call: "call-right-ben", Beneficiary: "ben1", Grant: p.grant.Token, Caregiver: "cg1", From: "Giulia"})
	p.issuer.ServeStream(st)
	if m := st.answer(t); m.Type != TypeRefused || m.Reason != ErrOffline.Error() {
		t.Fatalf("call to the granted beneficiary: got %+v, want refused with %q", m, ErrOffline)
	}
}

// TestOnlyAdminsImportGrants: a grant token is imported by an admin (pasted
// by hand) or by the node itself when the issuer delivers it over a signal
// stream; every other role is refused, whatever the account is called, and
// nothing is stored.
func TestOnlyAdminsImportGrants(t *testing.T) {
	p := newGrantPair(t)
	ctx := context.Background()
	for _, a := range []auth.Actor{
		{Username: "giulia", Role: auth.Caregiver, CaregiverID: "cg1"},
		{Username: "op", Role: auth.Operator},
		{Username: "ref", Role: auth.Refurbisher},
		{Username: "off", Role: auth.Officer},
		{Username: "nobody"},
		// An account may be called "system": the name grants nothing.
		{Username: "system", Role: auth.Caregiver, CaregiverID: "cg1"},
	} {
		if _, err := p.holder.ImportGrant(ctx, a, p.grant.Token); !errors.Is(err, problem.ErrForbidden) {
			t.Errorf("%s (%s) imported a grant: err %v", a.Username, a.Role, err)
		}
	}
	if held := p.holder.HeldGrants(""); len(held) != 0 {
		t.Fatalf("refused imports stored %d grants", len(held))
	}

	// Delivered by the issuer over a signal stream.
	st := newPipeStream(p.issuerPeer, Msg{Type: TypeGrant, Grant: p.grant.Token})
	p.holder.ServeStream(st)
	if m := st.answer(t); m.Type != TypeOK {
		t.Fatalf("grant delivered by its issuer: got %+v", m)
	}
	if held := p.holder.HeldGrants("cg1"); len(held) != 1 || held[0].ID != p.grant.ID {
		t.Fatalf("held grants after delivery: %+v", held)
	}

	// Pasted by an admin.
	q := newGrantPair(t)
	if h, err := q.holder.ImportGrant(ctx, adminActor, q.grant.Token); err != nil || h.ID != q.grant.ID {
		t.Fatalf("admin import: %+v %v", h, err)
	}
}

// TestGrantForAnotherNodeRefused: a grant addressed to one node is not
// imported by another, neither pasted by its admin nor delivered over a
// signal stream, even though its signature is good and the caregiver id
// exists there too.
func TestGrantForAnotherNodeRefused(t *testing.T) {
	p := newGrantPair(t)
	ctx := context.Background()
	other, _ := newService(t, p.clk)
	if _, err := other.ImportGrant(ctx, adminActor, p.grant.Token); err == nil {
		t.Fatal("a grant addressed to another node was imported")
	}
	st := newPipeStream(p.issuerPeer, Msg{Type: TypeGrant, Grant: p.grant.Token})
	other.ServeStream(st)
	if m := st.answer(t); m.Type == TypeOK {
		t.Fatalf("a grant addressed to another node was taken over a stream: %+v", m)
	}
	if held := other.HeldGrants(""); len(held) != 0 {
		t.Fatalf("the wrong node holds %d grants", len(held))
	}
	if h, err := p.holder.ImportGrant(ctx, adminActor, p.grant.Token); err != nil || h.ID != p.grant.ID {
		t.Fatalf("the addressed node: %+v %v", h, err)
	}
}

// TestHeldGrantRingsOnlyItsBeneficiary: the caregiver's node does not send
// a grant for one beneficiary to ring another of the same node; the call
// stops on the caregiver's own node before any stream is opened.
func TestHeldGrantRingsOnlyItsBeneficiary(t *testing.T) {
	p := newGrantPair(t)
	ctx := context.Background()
	if _, err := p.holder.ImportGrant(ctx, adminActor, p.grant.Token); err != nil {
		t.Fatal(err)
	}
	cg := auth.Actor{Username: "giulia", Role: auth.Caregiver, CaregiverID: "cg1"}
	if _, err := p.holder.placeRemote(ctx, cg, nil, Msg{Type: TypeCall, Call: "c1", Node: p.issuerPeer, Beneficiary: "ben2"}, "Giulia", nil, nil); !errors.Is(err, ErrNoGrant) {
		t.Fatalf("ringing another beneficiary under a grant for ben1: %v, want %v", err, ErrNoGrant)
	}
	// The granted beneficiary gets past the grant (no federation here).
	if _, err := p.holder.placeRemote(ctx, cg, nil, Msg{Type: TypeCall, Call: "c2", Node: p.issuerPeer, Beneficiary: "ben1"}, "Giulia", nil, nil); err == nil || errors.Is(err, ErrNoGrant) {
		t.Fatalf("the granted beneficiary: %v, want past the grant check", err)
	}
}
