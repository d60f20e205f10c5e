package calls

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

type fakeDir struct{}

func (fakeDir) Beneficiary(id string) (Person, bool) {
	return Person{ID: id, Name: "Maria Rossi", Caregivers: []string{"cg1"}}, id == "ben1"
}
func (fakeDir) Caregiver(id string) (Person, bool) {
	return Person{ID: id, Name: "Giulia"}, id == "cg1"
}
func (fakeDir) TerminalBeneficiary(id string) (string, bool) {
	return "ben1", id == "term1"
}

func newService(t *testing.T, clk *fakeclock.Clock) (*Service, string) {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	t.Cleanup(func() { st.Close() })
	log, err := audit.Open(ctx, st.Namespace("/audit"), clk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	id := schema.PeerIDFromPublicKey(key.Public().(ed25519.PublicKey))
	s, err := Open(ctx, Config{Store: st.Namespace("/calls"), Audit: log, Dir: fakeDir{}, Key: key, PeerID: id, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, id
}

func otherPeer() string {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey))
}

var adminActor = auth.Actor{Username: "admin", Role: auth.Admin}

func TestGrantChecks(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, self := newService(t, clk)
	a, c := otherPeer(), otherPeer()
	g, err := s.IssueGrant(context.Background(), adminActor, Grant{Beneficiary: "ben1", Node: a, Caregiver: "cgA", Expires: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// A grant signed by another key, same claims.
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	forged, _ := signGrant(forger, self, grantClaims{Issuer: self, Audience: a, Subject: "cgA", Beneficiary: "ben1", ID: g.ID, Expires: clk.Now().Add(time.Hour).Unix()})
	tamper := g.Token[:len(g.Token)-4] + "AAAA"
	tests := []struct {
		name, token, caller, caregiver string
		want                           error
	}{
		{"valid", g.Token, a, "cgA", nil},
		{"replayed by another node", g.Token, c, "cgA", ErrGrantBad},
		{"for another caregiver", g.Token, a, "cgX", ErrGrantBad},
		{"forged signature", forged, a, "cgA", ErrGrantBad},
		{"tampered", tamper, a, "cgA", ErrGrantBad},
		{"garbage", "a.b.c", a, "cgA", ErrGrantBad},
		{"too long", strings.Repeat("a", 5000), a, "cgA", ErrGrantBad},
	}
	for _, tt := range tests {
		_, err := s.checkGrant(tt.token, tt.caller, tt.caregiver)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	clk.Advance(2 * time.Hour)
	if _, err := s.checkGrant(g.Token, a, "cgA"); !errors.Is(err, ErrGrantExpired) {
		t.Errorf("expired: %v", err)
	}
	clk.Jump(clk.Now().Add(-2 * time.Hour))
	if _, err := s.RevokeGrant(context.Background(), adminActor, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.checkGrant(g.Token, a, "cgA"); !errors.Is(err, ErrGrantRevoked) {
		t.Errorf("revoked: %v", err)
	}
	// Only admins issue, with a bounded life, for another node.
	for _, bad := range []Grant{
		{Beneficiary: "ben1", Node: a, Caregiver: "cgA", Expires: clk.Now().Add(2 * maxGrantTTL)},
		{Beneficiary: "ben1", Node: a, Caregiver: "cgA", Expires: clk.Now().Add(-time.Minute)},
		{Beneficiary: "ben1", Node: self, Caregiver: "cgA", Expires: clk.Now().Add(time.Hour)},
		{Beneficiary: "nobody", Node: a, Caregiver: "cgA", Expires: clk.Now().Add(time.Hour)},
		{Beneficiary: "ben1", Node: "not-a-peer", Caregiver: "cgA", Expires: clk.Now().Add(time.Hour)},
	} {
		if _, err := s.IssueGrant(context.Background(), adminActor, bad); err == nil {
			t.Errorf("issued %+v", bad)
		}
	}
	if _, err := s.IssueGrant(context.Background(), auth.Actor{Username: "x", Role: auth.Caregiver}, Grant{Beneficiary: "ben1", Node: a, Caregiver: "cgA", Expires: clk.Now().Add(time.Hour)}); err == nil {
		t.Error("a caregiver issued a grant")
	}
}

func TestPairingOneTime(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, _ := newService(t, clk)
	ctx := context.Background()
	p, err := s.StartPairing(ctx, adminActor, "term1", "http://node")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.QR, "data:image/png;base64,") || len(p.Code) != pairCodeDigits {
		t.Fatalf("pairing %+v", p)
	}
	d, cred, err := s.Pair(ctx, p.Code, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Device(cred); err != nil || got.ID != d.ID {
		t.Fatalf("device: %v", err)
	}
	if _, _, err := s.Pair(ctx, p.Code, "127.0.0.1"); err == nil {
		t.Fatal("pairing code worked twice")
	}
	p2, _ := s.StartPairing(ctx, adminActor, "term1", "http://node")
	clk.Advance(time.Hour)
	if _, _, err := s.Pair(ctx, p2.Code, "127.0.0.1"); err == nil {
		t.Fatal("expired pairing code worked")
	}
	if _, err := s.StartPairing(ctx, adminActor, "term-unassigned", "http://node"); err == nil {
		t.Fatal("paired a terminal with no beneficiary")
	}
	// Guessing is throttled node-wide.
	var limited bool
	for i := 0; i < pairFailLimit+2; i++ {
		if _, _, err := s.Pair(ctx, "1234567890", "127.0.0.1"); errors.Is(err, ErrPairingLimited) {
			limited = true
		}
	}
	if !limited {
		t.Fatal("pairing guesses never throttled")
	}
	if err := s.RevokeDevice(ctx, adminActor, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(cred); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("revoked device: %v", err)
	}
	// The stored record holds only a hash.
	for _, dv := range s.devices.Filter(func(*Device) bool { return true }) {
		if strings.Contains(dv.Hash, cred) || dv.Hash == cred {
			t.Fatal("credential stored in clear")
		}
	}
}

func TestRelayAllowed(t *testing.T) {
	_, lan, _ := net.ParseCIDR("192.168.10.0/24")
	tests := []struct {
		ip    string
		allow bool
		want  bool
	}{
		{"8.8.8.8", false, true},
		{"2001:4860:4860::8888", false, true},
		{"127.0.0.1", false, false},
		{"::1", false, false},
		{"10.1.2.3", false, false},
		{"192.168.10.5", false, false},
		{"192.168.10.5", true, true},
		{"192.168.11.5", true, false},
		{"169.254.1.1", false, false},
		{"100.64.0.1", false, false},
		{"0.0.0.0", false, false},
		{"fd00::1", false, false},
	}
	for _, tt := range tests {
		var allow []*net.IPNet
		if tt.allow {
			allow = append(allow, lan)
		}
		if got := RelayAllowed(net.ParseIP(tt.ip), allow); got != tt.want {
			t.Errorf("%s (allow %v): got %v", tt.ip, tt.allow, got)
		}
	}
}

func TestTURNCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	u, p := TURNCredentials("secret", "giulia", now, time.Hour)
	if u != "1800003600:giulia" || p == "" {
		t.Fatalf("got %q %q", u, p)
	}
	if _, p2 := TURNCredentials("other", "giulia", now, time.Hour); p2 == p {
		t.Fatal("the secret does not change the password")
	}
}

func TestScheduleAccess(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, _ := newService(t, clk)
	ctx := context.Background()
	sc := Schedule{Beneficiary: "ben1", Caregiver: "cg1", Rule: "FREQ=WEEKLY;BYDAY=MO,TH", Time: "10:00", Start: "2026-03-02"}
	if _, err := s.SaveSchedule(ctx, auth.Actor{Username: "g", Role: auth.Caregiver, CaregiverID: "cg1"}, sc); err == nil {
		t.Fatal("a caregiver saved a schedule")
	}
	saved, err := s.SaveSchedule(ctx, adminActor, sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Schedules(auth.Actor{Username: "g", Role: auth.Caregiver, CaregiverID: "cg1"}, ""); len(got) != 1 {
		t.Fatalf("assigned caregiver sees %d schedules", len(got))
	}
	if got := s.Schedules(auth.Actor{Username: "o", Role: auth.Caregiver, CaregiverID: "cg9"}, ""); len(got) != 0 {
		t.Fatalf("another caregiver sees %d schedules", len(got))
	}
	items := s.Agenda(ctx, auth.Actor{Username: "g", Role: auth.Caregiver, CaregiverID: "cg1"}, clk.Now(), clk.Now().AddDate(0, 0, 7))
	if len(items) != 2 || items[0].Name != "Maria Rossi" {
		t.Fatalf("agenda %+v", items)
	}
	next := s.nextCall("ben1")
	if next == nil || next.Caregiver != "Giulia" || !strings.HasPrefix(next.Start, "2026-03-02T09:00:00") {
		t.Fatalf("next call %+v", next)
	}
	if err := s.DeleteSchedule(ctx, adminActor, saved.ID); err != nil {
		t.Fatal(err)
	}
	if s.nextCall("ben1") != nil {
		t.Fatal("deleted schedule still next")
	}
}
