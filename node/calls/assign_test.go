package calls_test

import (
	"context"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/calls/peer"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// pairTerminal registers a terminal of ben on n and pairs a device with
// it, returning the terminal and the device's id and credential.
func pairTerminal(t testing.TB, n *node.Node, ben string) (care.Terminal, string, string) {
	t.Helper()
	ctx := context.Background()
	term, err := n.Care().CreateTerminal(ctx, admin, care.Terminal{Label: "T-1", Model: "ThinkPad T440", State: "in_service", Beneficiary: ben})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := n.Calls().StartPairing(ctx, admin, term.ID, n.URL())
	if err != nil {
		t.Fatal(err)
	}
	d, cred, err := n.Calls().Pair(ctx, pr.Code, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return term, d.ID, cred
}

// TestCallOnlyAssignedBeneficiary: on one node, a caregiver rings the
// terminal of a beneficiary assigned to them, or one a schedule names them
// for; any other caregiver is refused with not_allowed and the terminal
// does not ring.
func TestCallOnlyAssignedBeneficiary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := nodetest.NewMocknet(t).Start(node.Config{CoopName: "Coop A"})[0]
	giulia, giuliaTok := caregiverAccount(t, n, "giulia", "Giulia Bianchi")
	marco, marcoTok := caregiverAccount(t, n, "marco", "Marco Verdi")
	ben, err := n.Care().CreateBeneficiary(ctx, admin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "058091", Caregivers: []string{giulia.ID}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, cred := pairTerminal(t, n, ben.ID)
	if _, err := n.Calls().SaveSettings(ctx, admin, calls.Settings{Beneficiary: ben.ID, Countdown: 1}); err != nil {
		t.Fatal(err)
	}
	tp, err := peer.Dial(ctx, peer.Config{URL: wsURL(n, "/ws/terminal"), Credential: cred, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	poll.Until(t, 5*time.Second, "terminal online", func() bool { return n.Calls().Hub().Online(ben.ID) })
	sessions := make(chan *peer.Session, 4)
	go answerAll(ctx, tp, sessions)

	dial := func(tok string) *peer.Peer {
		t.Helper()
		cp, err := peer.Dial(ctx, peer.Config{URL: wsURL(n, "/ws/calls"), Token: tok, Loopback: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cp.Close() })
		return cp
	}
	call := func(cp *peer.Peer) {
		t.Helper()
		cs, err := cp.Call(ctx, ben.ID, "")
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		ts := <-sessions
		if err := cs.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		<-ts.Ended
		ts.Close()
	}
	mp := dial(marcoTok)
	if _, err := mp.Call(ctx, ben.ID, ""); refusal(err) != calls.ErrNotAllowed.Error() {
		t.Fatalf("call by a caregiver not assigned: %v, want refused with %q", err, calls.ErrNotAllowed)
	}
	select {
	case s := <-sessions:
		s.Close()
		t.Fatal("the terminal answered a call by a caregiver not assigned")
	default:
	}

	// The assigned caregiver rings.
	call(dial(giuliaTok))

	// A schedule naming marco lets him call too.
	if _, err := n.Calls().SaveSchedule(ctx, admin, calls.Schedule{Beneficiary: ben.ID, Caregiver: marco.ID, Rule: "FREQ=WEEKLY;BYDAY=MO", Time: "10:00", Start: "2026-03-02"}); err != nil {
		t.Fatal(err)
	}
	call(mp)
}
