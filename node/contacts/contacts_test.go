package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	homeID = "12D3KooWHome"
	coopID = "12D3KooWCoop"
	sesto  = "015209"
)

// link carries messages between the two services in process; a node
// marked down makes every send fail, as an offline node does.
type link struct {
	mu    sync.Mutex
	nodes map[string]*Service
	down  map[string]bool
	bytes map[string][]byte // what each node received
}

type carrier struct {
	l    *link
	self string
}

func (c carrier) Send(ctx context.Context, to string, msg []byte) ([]byte, error) {
	c.l.mu.Lock()
	dst, down := c.l.nodes[to], c.l.down[to]
	if !down {
		c.l.bytes[to] = append(c.l.bytes[to], msg...)
	}
	c.l.mu.Unlock()
	if dst == nil || down {
		return nil, errors.New("unreachable")
	}
	return dst.HandleRemote(ctx, c.self, msg), nil
}

func (l *link) setDown(id string, down bool) {
	l.mu.Lock()
	l.down[id] = down
	l.mu.Unlock()
}

// fedLog is the coop's federation log: it only says yes.
type fedLog struct{}

func (fedLog) Publish(context.Context, schema.Kind, string, []byte) (*schema.Entry, error) {
	return &schema.Entry{}, nil
}
func (fedLog) Withdraw(context.Context, schema.Kind, string) (*schema.Entry, error) {
	return &schema.Entry{}, nil
}

// source is the home node's replica: the coop's profiles.
type source []*schema.Entry

func (source) OnChange(func(old, cur *schema.Entry)) {}
func (s source) Current(_ context.Context, _ schema.Kind, fn func(*schema.Entry) error) error {
	for _, e := range s {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

var admin = auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}

func openAudit(t *testing.T) *audit.Log {
	t.Helper()
	log, err := audit.Open(context.Background(), store.NewMemory().Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}

func openService(t *testing.T, self string, log *audit.Log, l *link, fam *families.Service, wk *workers.Service, p *workers.Profiles) *Service {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	s, err := Open(ctx, Config{Store: st.Namespace("/contacts"), Audit: log, Self: self, Families: fam, Workers: wk, Profiles: p,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.SetCarrier(carrier{l: l, self: self})
	l.nodes[self] = s
	s.Start()
	t.Cleanup(func() { s.Close() })
	return s
}

// pair is a coop node with two published workers and a family's home
// node that sees their profiles.
func pair(t *testing.T) (home, coop *Service, l *link, fam *families.Service, ids []string) {
	t.Helper()
	ctx := context.Background()
	l = &link{nodes: map[string]*Service{}, down: map[string]bool{}, bytes: map[string][]byte{}}
	today := time.Now().UTC().Format(time.DateOnly)
	homeLog, coopLog := openAudit(t), openAudit(t)
	wk, err := workers.Open(ctx, store.NewMemory().Namespace("/workers"), coopLog, nil, fedLog{}, "Cooperativa Sole")
	if err != nil {
		t.Fatal(err)
	}
	var src source
	for i, alias := range []string{"Elena P.", "Oksana"} {
		w, err := wk.Create(ctx, admin, workers.Worker{FullName: "CANARYWORKER" + alias, Phone: "+39 347 000 111" + string(rune('0'+i)),
			Consent: workers.Consent{Given: true, Date: today}, Check: workers.Check{IdentitySeen: true, Date: today},
			Profile: schema.WorkerProfile{Alias: alias, Work: []schema.WorkKind{schema.WorkElderly}, Languages: []string{"it"},
				Areas: []string{sesto}, Availability: schema.WorkerAvailability{Days: []schema.Weekday{schema.Monday}, HoursPerWeek: 30},
				Pay: schema.WorkerPay{AmountCents: 120000, Unit: schema.PerMonth}}})
		if err != nil {
			t.Fatal(err)
		}
		if w, err = wk.Publish(ctx, admin, w.ID); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(w.Profile)
		src = append(src, &schema.Entry{Publisher: coopID, Seq: uint64(i + 1), Kind: schema.KindWorker, Key: w.ID, Body: body})
		ids = append(ids, w.ID)
	}
	profiles, err := workers.NewProfiles(ctx, src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fam, err = families.Open(ctx, store.NewMemory().Namespace("/families"), homeLog, nil, profiles, nil)
	if err != nil {
		t.Fatal(err)
	}
	return openService(t, homeID, homeLog, l, fam, nil, profiles), openService(t, coopID, coopLog, l, nil, wk, nil), l, fam, ids
}

func familyRequest(t *testing.T, fam *families.Service) string {
	t.Helper()
	r, err := fam.Create(context.Background(), admin, families.Request{Work: schema.WorkElderly, HoursPerWeek: 30, Municipality: sesto,
		Notes: "CANARYNOTES", BudgetCents: 123456, ContactName: "CANARYFAMILY", ContactPhone: "+39 333 999 8888"})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func code(err error) string {
	var p *problem.Error
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

// TestContactThroughTheCoop: an ask to an offline coop waits and goes
// once the coop is back; both sides see each step; only the accept
// brings the worker's contacts to the family and the family's to the
// coop; a decline is final; nothing of the family's notes or budget
// crosses.
func TestContactThroughTheCoop(t *testing.T) {
	ctx := context.Background()
	home, coop, l, fam, ids := pair(t)
	req := familyRequest(t, fam)

	l.setDown(coopID, true)
	c, err := home.Ask(ctx, admin, req, coopID+"/"+ids[0], "Cerchiamo aiuto per la mamma.")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != StateSent || home.Outbox().Pending(coopID) != 1 {
		t.Fatalf("state %s, pending %d", c.State, home.Outbox().Pending(coopID))
	}
	if _, err := home.Ask(ctx, admin, req, ids[0], ""); code(err) != "already_asked" {
		t.Fatalf("second ask: %v", err)
	}
	l.setDown(coopID, false)
	home.Wake(coopID)
	poll.Until(t, 5*time.Second, "the ask to reach the coop", func() bool {
		got, _ := home.ForRequest(ctx, admin, req)
		return home.Outbox().Pending("") == 0 && len(got) == 1 && got[0].State == StateReceived
	})
	in, err := coop.Received(ctx, admin, ids[0])
	if err != nil || len(in) != 1 || in[0].ID != c.ID || in[0].Family != nil || in[0].Need.Municipality != sesto {
		t.Fatalf("coop's inbox %+v, %v", in, err)
	}
	if _, err := coop.Received(ctx, auth.Actor{Username: "ada", Role: auth.Caregiver}, ""); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a caregiver read the asks: %v", err)
	}

	stateOnHome := func(want string) Contact {
		t.Helper()
		var got []Contact
		poll.Until(t, 5*time.Second, "the family to see "+want, func() bool {
			got, _ = home.ForRequest(ctx, admin, req)
			return len(got) == 1 && got[0].State == want && home.Outbox().Pending("")+coop.Outbox().Pending("") == 0
		})
		return got[0]
	}
	if _, err := coop.Answer(ctx, admin, c.ID, StateAsked); err != nil {
		t.Fatal(err)
	}
	if got := stateOnHome(StateAsked); got.Worker != nil {
		t.Fatal("the worker's contacts reached the family before she accepted")
	}
	if _, err := coop.Answer(ctx, admin, c.ID, StateAccepted); err != nil {
		t.Fatal(err)
	}
	got := stateOnHome(StateAccepted)
	if got.Worker == nil || got.Worker.Name != "CANARYWORKERElena P." || len(got.Steps) != 4 {
		t.Fatalf("after the accept the family has %+v", got)
	}
	back, _ := coop.Get(ctx, admin, c.ID)
	if back.Family == nil || back.Family.Name != "CANARYFAMILY" {
		t.Fatalf("after the accept the coop has %+v", back)
	}
	if _, err := coop.Answer(ctx, admin, c.ID, StateDeclined); code(err) != "contact_closed" {
		t.Fatalf("answer after the accept: %v", err)
	}

	// The second worker declines: final, politely, without contacts.
	c2, err := home.Ask(ctx, admin, req, ids[1], "")
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the second ask", func() bool { _, err := coop.Get(ctx, admin, c2.ID); return err == nil })
	if _, err := coop.Answer(ctx, admin, c2.ID, StateDeclined); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the decline", func() bool {
		cs, _ := home.ForRequest(ctx, admin, req)
		return len(cs) == 2 && cs[0].ID == c2.ID && cs[0].State == StateDeclined && cs[0].Worker == nil
	})
	if _, err := home.Ask(ctx, admin, req, ids[1], ""); code(err) != "declined" {
		t.Fatalf("ask after a decline: %v", err)
	}
	if b, _ := coop.Get(ctx, admin, c2.ID); b.Family != nil {
		t.Fatal("the family's contacts reached the coop after a decline")
	}

	l.mu.Lock()
	toCoop := string(l.bytes[coopID])
	l.mu.Unlock()
	for _, s := range []string{"CANARYNOTES", "123456", req} {
		if strings.Contains(toCoop, s) {
			t.Errorf("%q crossed to the coop", s)
		}
	}
	if strings.Count(toCoop, "CANARYFAMILY") != 1 {
		t.Errorf("the family's name crossed %d times, want once (after the accept)", strings.Count(toCoop, "CANARYFAMILY"))
	}
}

// TestContactRefusals: a message the receiver cannot take is refused for
// good with its code (and audited); a contact hidden in the family's
// message is refused before anything is sent; someone who may not see
// the request may not ask.
func TestContactRefusals(t *testing.T) {
	ctx := context.Background()
	home, coop, _, fam, ids := pair(t)
	req := familyRequest(t, fam)
	msg := func(from, typ, contact string, body any) []byte {
		b, err := encode(newID("ms"), from, typ, contact, body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	refused := func(b []byte) string {
		var a Answer
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		return a.Refused
	}
	ask := wireAsk{Profile: ids[0], Need: Need{Work: schema.WorkElderly, HoursPerWeek: 10, Municipality: sesto}}
	unknown := wireAsk{Profile: "00000000-0000-4000-8000-000000000000", Need: ask.Need}
	for _, tc := range []struct {
		to    *Service
		from  string
		b     []byte
		code  string
		label string
	}{
		{coop, homeID, []byte(`{"v":1}`), "bad_message", "garbage"},
		{coop, "12D3KooWOther", msg(homeID, MsgAsk, "ct-abcdefgh12", ask), "forged_sender", "forged"},
		{coop, homeID, msg(homeID, MsgAsk, "ct-abcdefgh13", unknown), "unknown_profile", "not our worker"},
		{coop, homeID, msg(homeID, MsgFamily, "ct-abcdefgh14", wireFamily{Family: Person{Name: "x", Phone: "1"}}), "unknown_contact", "family for nothing"},
		{home, coopID, msg(coopID, MsgAccept, "ct-abcdefgh15", wireAccept{Worker: Person{Name: "x", Phone: "1"}}), "unknown_contact", "accept for nothing"},
	} {
		if got := refused(tc.to.HandleRemote(ctx, tc.from, tc.b)); got != tc.code {
			t.Errorf("%s: refused %q, want %q", tc.label, got, tc.code)
		}
	}
	// An ask not yet accepted refuses the family's contacts.
	if got := refused(coop.HandleRemote(ctx, homeID, msg(homeID, MsgAsk, "ct-abcdefgh16", ask))); got != "" {
		t.Fatalf("a good ask refused %q", got)
	}
	if got := refused(coop.HandleRemote(ctx, homeID, msg(homeID, MsgFamily, "ct-abcdefgh16", wireFamily{Family: Person{Name: "x", Phone: "1"}}))); got != "not_accepted" {
		t.Fatalf("family contacts before the accept: %q", got)
	}
	if _, err := home.Ask(ctx, admin, req, ids[0], "chiamatemi al 333 123 4567"); code(err) != "invalid" {
		t.Fatalf("a phone number in the message: %v", err)
	}
	if _, err := home.Ask(ctx, auth.Actor{Username: "rosa", Role: auth.Citizen}, req, ids[0], ""); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("another account asked: %v", err)
	}
	if home.Outbox().Pending("") != 0 {
		t.Fatal("a refused ask was queued")
	}
	// Withdrawn on the coop before the ask arrives: the ask is refused
	// and the family sees the profile is no longer available.
	if _, err := coop.cfg.Workers.Withdraw(ctx, admin, ids[1]); err != nil {
		t.Fatal(err)
	}
	c, err := home.Ask(ctx, admin, req, ids[1], "")
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the refused ask", func() bool {
		cs, _ := home.ForRequest(ctx, admin, req)
		return len(cs) == 1 && cs[0].ID == c.ID && cs[0].State == StateUnavailable && home.Outbox().Pending("") == 0
	})
}

func FuzzDecode(f *testing.F) {
	need := Need{Work: schema.WorkNight, HoursPerWeek: 40, Languages: []string{"ro"}, Municipality: sesto, StartDate: "2026-12-20"}
	for _, seed := range []struct {
		typ  string
		body any
	}{
		{MsgAsk, wireAsk{Profile: "00000000-0000-4000-8000-000000000000", Need: need, Message: "Buongiorno"}},
		{MsgAsked, wireEmpty{}},
		{MsgDecline, wireEmpty{}},
		{MsgAccept, wireAccept{Worker: Person{Name: "Elena Popescu", Phone: "+39 347 0001111"}}},
		{MsgFamily, wireFamily{Family: Person{Name: "Anna Rossi", Email: "anna@example.org"}}},
	} {
		b, err := encode("ms-abcdefgh12", homeID, seed.typ, "ct-abcdefgh12", seed.body)
		if err != nil {
			f.Fatal(err)
		}
		if _, _, err := Decode(b); err != nil {
			f.Fatalf("seed %s: %v", seed.typ, err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"id":"ms-abcdefgh12","from":"x","type":"asked","contact":"ct-abcdefgh12","body":{}} {}`))
	f.Add([]byte(`{"v":1,"id":"ms-abcdefgh12","from":"x","type":"ask","contact":"ct-abcdefgh12","body":{"profile":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, body, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error outside ErrBadMessage: %v", err)
			}
			return
		}
		if body == nil || e.V != WireVersion {
			t.Fatal("accepted without a body")
		}
		again, err := encode(e.ID, e.From, e.Type, e.Contact, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded message refused: %v", err)
		}
	})
}
