package calls_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/calls/peer"
	"github.com/difronte/difronte/testnet/poll"
)

// answerAll makes a terminal answer every ring at once, as the terminal
// page does after its countdown.
func answerAll(ctx context.Context, tp *peer.Peer, sessions chan<- *peer.Session) {
	for {
		ring, err := tp.NextRing(ctx)
		if err != nil {
			return
		}
		s, err := tp.Answer(ctx, ring)
		if err != nil {
			continue
		}
		select {
		case sessions <- s:
		case <-ctx.Done():
			s.Close()
			return
		}
	}
}

func refusal(err error) string {
	var r *peer.RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func recv(t *testing.T, ch <-chan []byte, want string) {
	t.Helper()
	select {
	case b := <-ch:
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %q within 10 s", want)
	}
}

// TestCallAcrossNodes: a pion caregiver on node A calls a pion terminal on
// node B through WebSocket, libp2p signal stream and WebSocket; with a
// grant, data flows both ways; hang-up ends both sides and B keeps the
// record; without a grant, after revocation and after expiry the call is
// refused.
func TestCallAcrossNodes(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tp := p.terminal(t, ctx)
	defer tp.Close()
	if tp.Hello.Info == nil || tp.Hello.Info.Name != "Signora Maria" || tp.Hello.Info.Countdown != 1 {
		t.Fatalf("terminal hello: %+v", tp.Hello.Info)
	}
	sessions := make(chan *peer.Session, 4)
	go answerAll(ctx, tp, sessions)

	cp := p.caregiver(t, ctx, p.Token)
	defer cp.Close()

	// No grant yet: refused on A, which holds none.
	if _, err := cp.Call(ctx, p.Ben.ID, p.B.PeerID()); refusal(err) != "no_grant" {
		t.Fatalf("call without grant: %v", err)
	}

	g := p.grant(t, time.Hour)
	cs, err := cp.Call(ctx, p.Ben.ID, p.B.PeerID())
	if err != nil {
		t.Fatalf("call with grant: %v", err)
	}
	var ts *peer.Session
	select {
	case ts = <-sessions:
	case <-ctx.Done():
		t.Fatal("terminal never answered")
	}
	if err := cs.DC.SendText("from caregiver"); err != nil {
		t.Fatal(err)
	}
	recv(t, ts.Recv, "from caregiver")
	if err := ts.DC.SendText("from terminal"); err != nil {
		t.Fatal(err)
	}
	recv(t, cs.Recv, "from terminal")

	if err := cs.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case why := <-ts.Ended:
		if why != "caller_hangup" {
			t.Fatalf("terminal saw the call end with %q", why)
		}
	case <-ctx.Done():
		t.Fatal("terminal never saw the hang-up")
	}
	ts.Close()
	poll.Until(t, 5*time.Second, "call record on B", func() bool {
		r, ok := p.B.Calls().Record(cs.ID)
		return ok && r.Answered && !r.Ended.IsZero() && r.EndReason == "caller_hangup" && r.Grant == g.ID
	})
	if _, ok := p.A.Calls().Record(cs.ID); ok {
		t.Fatal("the caregiver's node keeps a record of a call it does not own")
	}

	// A caregiver of A without a grant cannot ride on a colleague's.
	op := p.caregiver(t, ctx, p.OtherToken)
	defer op.Close()
	if _, err := op.Call(ctx, p.Ben.ID, p.B.PeerID()); refusal(err) != "no_grant" {
		t.Fatalf("call by a caregiver without grant: %v", err)
	}

	// Revoked on B: A still holds the token, B refuses at once.
	if _, err := p.B.Calls().RevokeGrant(ctx, admin, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Call(ctx, p.Ben.ID, p.B.PeerID()); refusal(err) != "grant_revoked" {
		t.Fatalf("call after revocation: %v", err)
	}

	// Expired: B's clock passes the grant's end. B's clock stands still
	// unless moved: the renewal is issued a second later, as in life, so
	// A holds it as the newest grant.
	p.clockB.Advance(time.Second)
	p.grant(t, 30*time.Minute)
	p.clockB.Advance(time.Hour)
	if _, err := cp.Call(ctx, p.Ben.ID, p.B.PeerID()); refusal(err) != "grant_expired" {
		t.Fatalf("call after expiry: %v", err)
	}
}

// TestTerminalCredential: a revoked device is dropped at once and refused
// on reconnect; an unknown credential is refused; the node keeps serving.
func TestTerminalCredential(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.B, "/ws/terminal"), Credential: "stolen-or-made-up"}); err == nil {
		t.Fatal("unknown credential accepted")
	}
	tp := p.terminal(t, ctx)
	defer tp.Close()
	poll.Until(t, 5*time.Second, "terminal online", func() bool { return p.B.Calls().Hub().Online(p.Ben.ID) })
	if err := p.B.Calls().RevokeDevice(ctx, admin, p.Device); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tp.Done():
	case <-ctx.Done():
		t.Fatal("revoked terminal still connected")
	}
	if p.B.Calls().Hub().Online(p.Ben.ID) {
		t.Fatal("revoked terminal still counted online")
	}
	if _, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.B, "/ws/terminal"), Credential: p.Credential}); err == nil {
		t.Fatal("revoked credential accepted")
	}
	if _, _, err := p.B.Calls().Pair(ctx, "0000000000", "127.0.0.1"); err == nil {
		t.Fatal("made-up pairing code accepted")
	}
}

// TestBadSignaling: malformed SDP and candidates, unknown calls and a flood
// are refused with a reason; the node serves the next call.
func TestBadSignaling(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p.grant(t, time.Hour)
	tp := p.terminal(t, ctx)
	defer tp.Close()
	sessions := make(chan *peer.Session, 4)
	go answerAll(ctx, tp, sessions)

	cp := p.caregiver(t, ctx, p.Token)
	defer cp.Close()
	for _, tt := range []struct{ raw, reason string }{
		{`{"type":"offer","call":"abcdefgh12","sdp":"v=0 nonsense"}`, "bad_sdp"},
		{`{"type":"candidate","call":"abcdefgh12","candidate":{"candidate":"candidate:x"}}`, "bad_candidate"},
		{`{"type":"offer"`, "malformed"},
		{`{"type":"hangup","call":"nosuchcall1"}`, "unknown_call"},
	} {
		if err := cp.SendRaw(ctx, []byte(tt.raw)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-cp.Others():
			if m.Type != calls.TypeError || m.Reason != tt.reason {
				t.Fatalf("%s: got %+v, want error %s", tt.raw, m, tt.reason)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no answer", tt.raw)
		}
	}
	// The same socket still places a call.
	cs, err := cp.Call(ctx, p.Ben.ID, p.B.PeerID())
	if err != nil {
		t.Fatalf("call after bad input: %v", err)
	}
	ts := <-sessions
	cs.Hangup(ctx)
	<-ts.Ended
	ts.Close()

	// A flood closes the flooding socket only.
	fl := p.caregiver(t, ctx, p.OtherToken)
	defer fl.Close()
	for i := 0; i < 2000; i++ {
		if fl.SendRaw(ctx, []byte(`{"type":"hangup","call":"flood-flood"}`)) != nil {
			break
		}
	}
	select {
	case <-fl.Done():
	case <-ctx.Done():
		t.Fatal("flooding socket never closed")
	}
	cs, err = cp.Call(ctx, p.Ben.ID, p.B.PeerID())
	if err != nil {
		t.Fatalf("call after a flood: %v", err)
	}
	ts = <-sessions
	cs.Hangup(ctx)
	<-ts.Ended
	ts.Close()
}
