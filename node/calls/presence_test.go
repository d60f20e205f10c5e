package calls

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/store"
)

type quietEndpoint struct{}

func (quietEndpoint) Send(Msg) bool { return true }
func (quietEndpoint) Close(string)  {}

// A terminal and a caregiver are online while their socket is attached;
// when they left is kept, and survives a restart of the node.
func TestPresence(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
	st := store.NewMemory()
	defer st.Close()
	log, err := audit.Open(ctx, st.Namespace("/audit"), clk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	open := func() *Service {
		s, err := Open(ctx, Config{Store: st.Namespace("/calls"), Audit: log, Dir: fakeDir{}, Key: key, PeerID: "self", Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if p := s.TerminalPresence("term1"); p.Online || !p.LastSeen.IsZero() {
		t.Fatalf("a terminal never seen: %+v", p)
	}
	term := &Terminal{Endpoint: quietEndpoint{}, Device: "d1", TerminalID: "term1", Beneficiary: "ben1"}
	s.Hub().AttachTerminal(term)
	var cg quietEndpoint
	s.Hub().AttachCaregiver(&cg, "cg1")
	if !s.TerminalPresence("term1").Online || !s.CaregiverPresence("cg1").Online || s.CaregiverPresence("cg2").Online {
		t.Fatal("attached sockets not online")
	}
	left := clk.Now().Add(90 * time.Minute)
	clk.Set(left)
	s.Hub().DetachTerminal(term, "closed")
	s.Hub().DetachCaregiver(&cg)
	for name, p := range map[string]Presence{"terminal": s.TerminalPresence("term1"), "caregiver": s.CaregiverPresence("cg1")} {
		if p.Online || !p.LastSeen.Equal(left) {
			t.Errorf("%s after leaving: %+v", name, p)
		}
	}
	s.Close()
	s = open()
	defer s.Close()
	if p := s.TerminalPresence("term1"); p.Online || !p.LastSeen.Equal(left) {
		t.Errorf("last seen after a restart: %+v", p)
	}
}
