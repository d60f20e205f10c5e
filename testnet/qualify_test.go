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
	net := NewInProc(t, 4, Options{Seed: 4})
	authNode, coopNode := net.Nodes[0], net.Nodes[1]
	coopPeer := coopNode.Host.ID().String()

	keys, err := qualify.GenerateKey(filepath.Join(t.TempDir(), "authority.jwk"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	territory := []string{"037006", "037007"}
	trust, err := schema.NewTrustSet(keys.Public("Comune di Bologna", territory, authNode.Host.ID().String()))
	if err != nil {
		t.Fatal(err)
	}
	svcs := make([]*qualify.Service, len(net.Nodes))
	attach := func(i int) {
		svcs[i] = qualify.NewService(trust, nil, nil)
		if err := svcs[i].Attach(ctx, net.Nodes[i].Fed.Replica()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range net.Nodes {
		attach(i)
	}
	authAudit := openAudit(t)
	known := map[string]bool{coopPeer: true}
	au, err := qualify.OpenAuthority(ctx, qualify.AuthorityConfig{
		Keys: keys, Name: "Comune di Bologna", Territory: territory, Peer: authNode.Host.ID().String(),
		Store: dssync.MutexWrap(datastore.NewMapDatastore()), Audit: authAudit, Publisher: authNode.Fed,
		Known: func(p string) bool { return known[p] },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := au.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stop := federation.ServeApply(authNode.Host, au)
	defer stop()

	coop, err := qualify.OpenCoop(ctx, qualify.CoopConfig{
		CoopName: "Coop Aurora", Store: dssync.MutexWrap(datastore.NewMapDatastore()),
		Audit: openAudit(t), Send: sender(net, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	officer := auth.Actor{Username: "rossi", Role: auth.Officer}
	pdf := federation.Attachment{Name: "statuto.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4 statuto")}
	form := federation.ApplicationForm{
		Categories: []string{"anziani"}, Municipalities: []string{"037006"},
		Description: "Assistenza domiciliare a Bologna dal 2010", Attachments: []federation.Attachment{pdf},
	}

	// Bad input first: nothing is stored.
	bad := form
	bad.Attachments = []federation.Attachment{{Name: "x.pdf", Type: "application/pdf", Data: []byte("MZ not a pdf")}}
	if _, err := coop.Apply(ctx, admin, authNode.Host.ID().String(), "Comune di Bologna", bad); err == nil {
		t.Fatal("a fake PDF was sent")
	}
	outside := form
	outside.Municipalities = []string{"080063"}
	if _, err := coop.Apply(ctx, admin, authNode.Host.ID().String(), "Comune di Bologna", outside); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("application outside the territory: %v", err)
	}
	// An unknown node is refused with a reason.
	stranger, _ := qualify.OpenCoop(ctx, qualify.CoopConfig{Store: dssync.MutexWrap(datastore.NewMapDatastore()), Audit: openAudit(t), Send: sender(net, 2)})
	if _, err := stranger.Apply(ctx, admin, authNode.Host.ID().String(), "", form); err == nil || !strings.Contains(err.Error(), "unknown node") {
		t.Fatalf("unknown node: %v", err)
	}
	if apps, _ := au.List(officer); len(apps) != 0 {
		t.Fatalf("refused applications were stored: %d", len(apps))
	}

	// Apply, ask for changes, re-submit, approve.
	app, err := coop.Apply(ctx, admin, authNode.Host.ID().String(), "Comune di Bologna", form)
	if err != nil {
		t.Fatal(err)
	}
	if app.State != qualify.Submitted {
		t.Fatalf("state %q", app.State)
	}
	id := coopPeer + "/" + app.ID
	if _, err := au.AskChanges(ctx, officer, id, "Allegate la visura camerale"); err != nil {
		t.Fatal(err)
	}
	if _, err := coop.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := coop.Get(admin, app.ID); got.State != qualify.Changes || got.Message != "Allegate la visura camerale" {
		t.Fatalf("coop sees %q %q", got.State, got.Message)
	}
	form.ID = app.ID
	form.Attachments = append(form.Attachments, federation.Attachment{Name: "visura.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nvisura")})
	if _, err := coop.Apply(ctx, admin, "", "", form); err != nil {
		t.Fatal(err)
	}
	if _, err := au.Approve(ctx, auth.Actor{Username: "x", Role: auth.Caregiver}, id, qualify.Decision{}); err == nil {
		t.Fatal("a caregiver approved")
	}
	until := time.Now().AddDate(1, 0, 0)
	if _, err := au.Approve(ctx, officer, id, qualify.Decision{Categories: []string{"anziani"}, Municipalities: []string{"037006"}, ValidUntil: until}); err != nil {
		t.Fatal(err)
	}
	offering := schema.Offering{Category: "anziani.assistenza-domiciliare", Areas: []string{"037006"}}
	uncovered := schema.Offering{Category: "anziani.assistenza-domiciliare", Areas: []string{"037006", "037007"}}
	poll.Until(t, 15*time.Second, "the credential on every node", func() bool {
		for _, s := range svcs {
			if _, _, ok := s.Qualified(coopPeer, offering); !ok {
				return false
			}
		}
		return true
	})
	for i, s := range svcs {
		name, u, ok := s.Qualified(coopPeer, offering)
		if !ok || name != "Comune di Bologna" || u.Unix() != until.Unix() {
			t.Fatalf("node %d: %q %v %v", i, name, u, ok)
		}
		if _, _, why, ok := s.Explain(coopPeer, uncovered); ok || !strings.Contains(why, "037007") {
			t.Fatalf("node %d: uncovered offering: %v %q", i, ok, why)
		}
		if _, _, ok := s.Qualified(net.Nodes[2].Host.ID().String(), offering); ok {
			t.Fatalf("node %d: another coop is qualified", i)
		}
	}
	if _, err := coop.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := coop.Get(admin, app.ID); got.State != qualify.Approved || got.Credential == "" {
		t.Fatalf("coop sees %q", got.State)
	}

	// Revoke while node 3 is offline.
	if err := net.Stop(3); err != nil {
		t.Fatal(err)
	}
	if _, err := au.Revoke(ctx, officer, id, "Irregolarità contributive"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 15*time.Second, "revocation on every running node", func() bool {
		for _, s := range svcs[:3] {
			if _, _, ok := s.Qualified(coopPeer, offering); ok {
				return false
			}
		}
		return true
	})
	for _, s := range svcs[:3] {
		if rs := s.Credentials(coopPeer); len(rs) != 1 || !rs[0].Revoked {
			t.Fatalf("credentials %+v", rs)
		}
	}
	if err := net.Restart(ctx, 3); err != nil {
		t.Fatal(err)
	}
	attach(3)
	poll.Until(t, 20*time.Second, "node 3 to catch up with the revocation", func() bool {
		rs := svcs[3].Credentials(coopPeer)
		return len(rs) == 1 && rs[0].Revoked
	})
	if _, _, ok := svcs[3].Qualified(coopPeer, offering); ok {
		t.Fatal("node 3 still qualifies the coop")
	}
	// The refusals were audited on the authority.
	evs, err := authAudit.Query(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range evs {
		if e.Action == qualify.ActRefused {
			refused++
		}
	}
	if refused < 2 {
		t.Fatalf("%d refusals audited", refused)
	}
}
