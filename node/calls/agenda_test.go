package calls_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
)

// TestRemoteAgendaAndFeed: B shares with A only the display name and the
// times of its schedule for A's granted caregiver; A's agenda and the
// caregiver's .ics feed show them; a new feed link revokes the old one.
func TestRemoteAgendaAndFeed(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	p.grant(t, time.Hour)
	now := time.Now()
	if _, err := p.B.Calls().SaveSchedule(ctx, admin, calls.Schedule{Beneficiary: p.Ben.ID, Caregiver: p.A.PeerID() + "/" + p.Caregiver.ID,
		Rule: "FREQ=DAILY", Time: "10:00", Start: now.Format("2006-01-02")}); err != nil {
		t.Fatal(err)
	}
	cg := auth.Actor{Username: "giulia", Role: auth.Caregiver, CaregiverID: p.Caregiver.ID}
	items := p.A.Calls().Agenda(ctx, cg, now, now.AddDate(0, 0, 7))
	if len(items) < 6 {
		t.Fatalf("A's agenda has %d remote items", len(items))
	}
	for _, it := range items {
		if it.Node != p.B.PeerID() || it.Name != "Signora Maria" || strings.Contains(it.Name, "Rossi") {
			t.Fatalf("remote item %+v", it)
		}
	}
	// A caregiver without a grant sees nothing of B.
	if got := p.A.Calls().Agenda(ctx, auth.Actor{Username: "marco", Role: auth.Caregiver, CaregiverID: p.Other.ID}, now, now.AddDate(0, 0, 7)); len(got) != 0 {
		t.Fatalf("ungranted caregiver sees %+v", got)
	}

	post := func(method string) *http.Response {
		req, _ := http.NewRequest(method, p.A.URL()+"/api/v1/calls/feed", nil)
		req.Header.Set("Authorization", "Bearer "+p.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	feedURL := func() string {
		res := post(http.MethodPost)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		s := string(b)
		i := strings.Index(s, "http://")
		j := strings.Index(s[i:], ".ics")
		return s[i : i+j+4]
	}
	get := func(u string) (int, string) {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	u1 := feedURL()
	code, body := get(u1)
	if code != 200 || !strings.Contains(body, "BEGIN:VEVENT") || !strings.Contains(body, "Signora Maria") {
		t.Fatalf("feed: %d\n%s", code, body)
	}
	u2 := feedURL()
	if code, _ := get(u1); code != 404 {
		t.Fatalf("old feed link still answers %d", code)
	}
	if code, _ := get(u2); code != 200 {
		t.Fatalf("new feed link answers %d", code)
	}
	post(http.MethodDelete).Body.Close()
	if code, _ := get(u2); code != 404 {
		t.Fatalf("revoked feed link answers %d", code)
	}
}

// TestRequestAcrossNodes: "Chiamatemi" on B's terminal reaches the granted
// caregiver's socket on A, and only hers.
func TestRequestAcrossNodes(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.grant(t, time.Hour)
	cp := p.caregiver(t, ctx, p.Token)
	defer cp.Close()
	op := p.caregiver(t, ctx, p.OtherToken)
	defer op.Close()
	tp := p.terminal(t, ctx)
	defer tp.Close()
	if err := tp.Send(ctx, calls.Msg{Type: calls.TypeRequest}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-cp.Others():
		if m.Type != calls.TypeRequest || m.Beneficiary != p.Ben.ID || m.Node != p.B.PeerID() {
			t.Fatalf("caregiver got %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("the request never reached the caregiver on A")
	}
	select {
	case m := <-op.Others():
		t.Fatalf("a caregiver without grant heard %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
}
