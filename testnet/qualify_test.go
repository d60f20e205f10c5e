package testnet

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func openAudit(t *testing.T) *audit.Log {
	t.Helper()
	l, err := audit.Open(context.Background(), dssync.MutexWrap(datastore.NewMapDatastore()), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func sender(net *InProc, i int) qualify.Sender {
	return func(ctx context.Context, p string, req federation.ApplyRequest) (federation.ApplyResponse, error) {
		pid, err := peer.Decode(p)
		if err != nil {
			return federation.ApplyResponse{}, err
		}
		return federation.SendApply(ctx, net.Nodes[i].Host, pid, req)
	}
}

// TestQualificationFlow runs the whole life cycle on an in-process
// federation: node 0 is the authority, node 1 the applying coop, nodes 2
// and 3 bystanders that each decide for themselves; node 3 is offline
// during the revocation and catches up.
func TestQualificationFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q := newQualFlow(t, ctx)
	q.refuseBadApplications()
	id, offering := q.applyAndApprove()
	q.revokeWhileOffline(id, offering)
	q.refusalsAudited()
}

// qualFlow is the federation, the authority and the coop of
// TestQualificationFlow, with one verifying service per node.
type qualFlow struct {
	t        *testing.T
	ctx      context.Context
	net      *InProc
	svcs     []*qualify.Service
	trust    *schema.TrustSet
	au       *qualify.Authority
	coop     *qualify.Coop
	audit    *audit.Log // the authority's
	authPeer string
	coopPeer string
	form     federation.ApplicationForm
	appID    string
}

var (
	qualAdmin   = auth.Actor{Username: "admin", Role: auth.Admin}
	qualOfficer = auth.Actor{Username: "rossi", Role: auth.Officer}
)

func newQualFlow(t *testing.T, ctx context.Context) *qualFlow {
	net := NewInProc(t, 4, Options{Seed: 4})
	q := &qualFlow{t: t, ctx: ctx, net: net, svcs: make([]*qualify.Service, len(net.Nodes)),
		authPeer: net.Nodes[0].Host.ID().String(), coopPeer: net.Nodes[1].Host.ID().String()}
	keys, err := qualify.GenerateKey(filepath.Join(t.TempDir(), "authority.jwk"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	territory := []string{"037006", "037007"}
	if q.trust, err = schema.NewTrustSet(keys.Public("Comune di Bologna", territory, q.authPeer)); err != nil {
		t.Fatal(err)
	}
	for i := range net.Nodes {
		q.attach(i)
	}
	q.audit = openAudit(t)
	known := map[string]bool{q.coopPeer: true}
	q.au, err = qualify.OpenAuthority(ctx, qualify.AuthorityConfig{
		Keys: keys, Name: "Comune di Bologna", Territory: territory, Peer: q.authPeer,
		Store: dssync.MutexWrap(datastore.NewMapDatastore()), Audit: q.audit, Publisher: net.Nodes[0].Fed,
		Known: func(p string) bool { return known[p] },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.au.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(federation.ServeApply(net.Nodes[0].Host, q.au))
	q.coop, err = qualify.OpenCoop(ctx, qualify.CoopConfig{
		CoopName: "Coop Aurora", Store: dssync.MutexWrap(datastore.NewMapDatastore()),
		Audit: openAudit(t), Send: sender(net, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	pdf := federation.Attachment{Name: "statuto.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4 statuto")}
	q.form = federation.ApplicationForm{
		Categories: []string{"anziani"}, Municipalities: []string{"037006"},
		Description: "Assistenza domiciliare a Bologna dal 2010", Attachments: []federation.Attachment{pdf},
	}
	return q
}

// attach gives node i a verifying service on its replica.
func (q *qualFlow) attach(i int) {
	q.svcs[i] = qualify.NewService(q.trust, nil, nil)
	if err := q.svcs[i].Attach(q.ctx, q.net.Nodes[i].Fed.Replica()); err != nil {
		q.t.Fatal(err)
	}
}

// refuseBadApplications sends bad input first: nothing is stored.
func (q *qualFlow) refuseBadApplications() {
	t, ctx := q.t, q.ctx
	bad := q.form
	bad.Attachments = []federation.Attachment{{Name: "x.pdf", Type: "application/pdf", Data: []byte("MZ not a pdf")}}
	if _, err := q.coop.Apply(ctx, qualAdmin, q.authPeer, "Comune di Bologna", bad); err == nil {
		t.Fatal("a fake PDF was sent")
	}
	outside := q.form
	outside.Municipalities = []string{"080063"}
	if _, err := q.coop.Apply(ctx, qualAdmin, q.authPeer, "Comune di Bologna", outside); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("application outside the territory: %v", err)
	}
	// An unknown node is refused with a reason.
	stranger, _ := qualify.OpenCoop(ctx, qualify.CoopConfig{Store: dssync.MutexWrap(datastore.NewMapDatastore()), Audit: openAudit(t), Send: sender(q.net, 2)})
	if _, err := stranger.Apply(ctx, qualAdmin, q.authPeer, "", q.form); err == nil || !strings.Contains(err.Error(), "unknown node") {
		t.Fatalf("unknown node: %v", err)
	}
	if apps, _ := q.au.List(qualOfficer); len(apps) != 0 {
		t.Fatalf("refused applications were stored: %d", len(apps))
	}
}

// applyAndApprove applies, asks for changes, re-submits and approves; the
// credential reaches every node. It returns the application's id at the
// authority and an offering the credential covers.
func (q *qualFlow) applyAndApprove() (string, schema.Offering) {
	t, ctx, coop := q.t, q.ctx, q.coop
	app, err := coop.Apply(ctx, qualAdmin, q.authPeer, "Comune di Bologna", q.form)
	if err != nil {
		t.Fatal(err)
	}
	if app.State != qualify.Submitted {
		t.Fatalf("state %q", app.State)
	}
	id := q.coopPeer + "/" + app.ID
	if _, err := q.au.AskChanges(ctx, qualOfficer, id, "Allegate la visura camerale"); err != nil {
		t.Fatal(err)
	}
	if _, err := coop.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := coop.Get(qualAdmin, app.ID); got.State != qualify.Changes || got.Message != "Allegate la visura camerale" {
		t.Fatalf("coop sees %q %q", got.State, got.Message)
	}
	form := q.form
	form.ID = app.ID
	form.Attachments = append(form.Attachments, federation.Attachment{Name: "visura.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nvisura")})
	if _, err := coop.Apply(ctx, qualAdmin, "", "", form); err != nil {
		t.Fatal(err)
	}
	if _, err := q.au.Approve(ctx, auth.Actor{Username: "x", Role: auth.Caregiver}, id, qualify.Decision{}); err == nil {
		t.Fatal("a caregiver approved")
	}
	until := time.Now().AddDate(1, 0, 0)
	if _, err := q.au.Approve(ctx, qualOfficer, id, qualify.Decision{Categories: []string{"anziani"}, Municipalities: []string{"037006"}, ValidUntil: until}); err != nil {
		t.Fatal(err)
	}
	offering := schema.Offering{Category: "anziani.assistenza-domiciliare", Areas: []string{"037006"}}
	q.qualifiedEverywhere(offering, until)
	if _, err := coop.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := coop.Get(qualAdmin, app.ID); got.State != qualify.Approved || got.Credential == "" {
		t.Fatalf("coop sees %q", got.State)
	}
	return id, offering
}

// qualifiedEverywhere waits for every node to qualify the coop for
// offering until the given day, and no further.
func (q *qualFlow) qualifiedEverywhere(offering schema.Offering, until time.Time) {
	t := q.t
	uncovered := schema.Offering{Category: "anziani.assistenza-domiciliare", Areas: []string{"037006", "037007"}}
	poll.Until(t, 15*time.Second, "the credential on every node", func() bool {
		for _, s := range q.svcs {
			if _, _, ok := s.Qualified(q.coopPeer, offering); !ok {
				return false
			}
		}
		return true
	})
	for i, s := range q.svcs {
		name, u, ok := s.Qualified(q.coopPeer, offering)
		if !ok || name != "Comune di Bologna" || u.Unix() != until.Unix() {
			t.Fatalf("node %d: %q %v %v", i, name, u, ok)
		}
		if _, _, why, ok := s.Explain(q.coopPeer, uncovered); ok || !strings.Contains(why, "037007") {
			t.Fatalf("node %d: uncovered offering: %v %q", i, ok, why)
		}
		if _, _, ok := s.Qualified(q.net.Nodes[2].Host.ID().String(), offering); ok {
			t.Fatalf("node %d: another coop is qualified", i)
		}
	}
}

// revokeWhileOffline revokes while node 3 is offline; it catches up.
func (q *qualFlow) revokeWhileOffline(id string, offering schema.Offering) {
	t, ctx := q.t, q.ctx
	if err := q.net.Stop(3); err != nil {
		t.Fatal(err)
	}
	if _, err := q.au.Revoke(ctx, qualOfficer, id, "Irregolarità contributive"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 15*time.Second, "revocation on every running node", func() bool {
		for _, s := range q.svcs[:3] {
			if _, _, ok := s.Qualified(q.coopPeer, offering); ok {
				return false
			}
		}
		return true
	})
	for _, s := range q.svcs[:3] {
		if rs := s.Credentials(q.coopPeer); len(rs) != 1 || !rs[0].Revoked {
			t.Fatalf("credentials %+v", rs)
		}
	}
	if err := q.net.Restart(ctx, 3); err != nil {
		t.Fatal(err)
	}
	q.attach(3)
	poll.Until(t, 20*time.Second, "node 3 to catch up with the revocation", func() bool {
		rs := q.svcs[3].Credentials(q.coopPeer)
		return len(rs) == 1 && rs[0].Revoked
	})
	if _, _, ok := q.svcs[3].Qualified(q.coopPeer, offering); ok {
		t.Fatal("node 3 still qualifies the coop")
	}
}

// refusalsAudited checks the refusals were audited on the authority.
func (q *qualFlow) refusalsAudited() {
	evs, err := q.audit.Query(q.ctx, audit.Filter{})
	if err != nil {
		q.t.Fatal(err)
	}
	refused := 0
	for _, e := range evs {
		if e.Action == qualify.ActRefused {
			refused++
		}
	}
	if refused < 2 {
		q.t.Fatalf("%d refusals audited", refused)
	}
}
