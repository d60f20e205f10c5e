package calls_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/calls/peer"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// bleve (the catalogue search index) starts workers it never stops.
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"),
		// libp2p and pion keep a few process-wide helpers.
		goleak.IgnoreTopFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	)
}

var admin = auth.Actor{Username: "admin", Role: auth.Admin}

// pair is two federated nodes on an in-memory libp2p network: A, the
// caregiver's coop, and B, the beneficiary's, with a caregiver on A, a
// beneficiary and a paired terminal on B.
type pair struct {
	A, B       *node.Node
	clockB     *fakeclock.Clock // B's clock, which tests move forward
	Caregiver  care.Caregiver   // on A
	Token      string           // caregiver's bearer token on A
	Other      care.Caregiver   // a caregiver on A with no grant
	OtherToken string
	Ben        care.Beneficiary // on B
	Terminal   care.Terminal
	Credential string // the terminal's device credential
	Device     string
}

func caregiverAccount(t testing.TB, n *node.Node, user, name string) (care.Caregiver, string) {
	t.Helper()
	ctx := context.Background()
	cg, err := n.Care().CreateCaregiver(ctx, admin, care.Caregiver{Name: name, Languages: []string{"it"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Auth().Create(ctx, auth.Account{Username: user, Role: auth.Caregiver, CaregiverID: cg.ID, DisplayName: name}, "caregiver-password-1"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := n.Auth().Login(ctx, user, "caregiver-password-1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cg, tok
}

func newPair(t testing.TB) *pair {
	t.Helper()
	ctx := context.Background()
	p := &pair{clockB: fakeclock.New(time.Now())}
	p.A, p.B = nodetest.Pair(t, node.Config{CoopName: "Coop A"}, node.Config{CoopName: "Coop B", Clock: p.clockB})
	p.Caregiver, p.Token = caregiverAccount(t, p.A, "giulia", "Giulia Bianchi")
	p.Other, p.OtherToken = caregiverAccount(t, p.A, "marco", "Marco Verdi")

	var err error
	p.Ben, err = p.B.Care().CreateBeneficiary(ctx, admin, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "058091"})
	if err != nil {
		t.Fatal(err)
	}
	p.Terminal, p.Device, p.Credential = pairTerminal(t, p.B, p.Ben.ID)
	if _, err := p.B.Calls().SaveSettings(ctx, admin, calls.Settings{Beneficiary: p.Ben.ID, DisplayName: "Signora Maria", Countdown: 1}); err != nil {
		t.Fatal(err)
	}
	return p
}

// grant has B grant A's caregiver and waits until A holds it.
func (p *pair) grant(t testing.TB, ttl time.Duration) calls.Grant {
	t.Helper()
	g, err := p.B.Calls().IssueGrant(context.Background(), admin, calls.Grant{
		Beneficiary: p.Ben.ID, Node: p.A.PeerID(), Caregiver: p.Caregiver.ID, Name: "Giulia", Expires: p.clockB.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "grant delivered to A", func() bool {
		for _, h := range p.A.Calls().HeldGrants(p.Caregiver.ID) {
			if h.ID == g.ID {
				return true
			}
		}
		return false
	})
	return g
}

func wsURL(n *node.Node, path string) string {
	return strings.Replace(n.URL(), "http://", "ws://", 1) + path
}

func (p *pair) terminal(t testing.TB, ctx context.Context) *peer.Peer {
	t.Helper()
	tp, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.B, "/ws/terminal"), Credential: p.Credential, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func (p *pair) caregiver(t testing.TB, ctx context.Context, token string) *peer.Peer {
	t.Helper()
	cp, err := peer.Dial(ctx, peer.Config{URL: wsURL(p.A, "/ws/calls"), Token: token, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// fedLimits lets one peer node open the streams a 200-call benchmark needs.
func fedLimits() federation.SignalLimits { return federation.SignalLimits{} }
