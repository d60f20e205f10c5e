package requests

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/testnet/poll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	homeID = "12D3KooWHome"
	provID = "12D3KooWProv"
)

// catalogue is a fake federated catalogue.
type catalogue map[string]OfferingRef

func (c catalogue) Offering(_ context.Context, ref string) (OfferingRef, bool) {
	if _, k, ok := strings.Cut(ref, "/"); ok {
		ref = k
	}
	o, ok := c[ref]
	return o, ok
}

// net carries messages between services in process; a peer marked down
// is unreachable.
type net struct {
	mu    sync.Mutex
	nodes map[string]*Service
	down  map[string]bool
}

type carrier struct {
	n    *net
	from string
}

// setDown makes the node id unreachable (down) or reachable again.
func (n *net) setDown(id string, down bool) {
	n.mu.Lock()
	n.down[id] = down
	n.mu.Unlock()
}

// Connected is true for a node that is up (a request is then sent at
// once, not queued).
func (c carrier) Connected(to string) bool {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.n.nodes[to] != nil && !c.n.down[to]
}

func (c carrier) Send(ctx context.Context, to string, msg []byte) ([]byte, error) {
	c.n.mu.Lock()
	s, down := c.n.nodes[to], c.n.down[to]
	c.n.mu.Unlock()
	if s == nil || down {
		return nil, errors.New("unreachable")
	}
	return s.HandleRemote(ctx, c.from, msg), nil
}

type rig struct {
	home, prov *Service
	clk        *fakeclock.Clock
	net        *net
	notes      []string
	mu         sync.Mutex
	// disks are the nodes' stores by peer id, whose writes a test can
	// make fail (flaky).
	disks map[string]*flaky
}

var (
	citizen  = auth.Actor{Username: "anna", Role: auth.Citizen}
	manager  = auth.Actor{Username: "gestore", Role: auth.CaseManager}
	stranger = auth.Actor{Username: "bruno", Role: auth.Citizen}
)

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{clk: fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), net: &net{nodes: map[string]*Service{}, down: map[string]bool{}},
		disks: map[string]*flaky{}}
	cat := catalogue{"off1": {Publisher: provID, ID: "off1", Name: "Assistenza", Category: "anziani.assistenza-domiciliare"},
		"own1": {Publisher: homeID, ID: "own1", Name: "Spesa a domicilio", Category: "anziani.assistenza-domiciliare"}}
	open := func(self string) *Service {
		disk := &flaky{Batching: store.NewMemory().Datastore()}
		disk.allow.Store(-1)
		r.disks[self] = disk
		st := store.Wrap(disk)
		al, err := audit.Open(context.Background(), st.Namespace("/audit"), r.clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), Config{Store: st.Namespace("/requests"), Audit: al, Clock: r.clk, Self: self,
			Catalogue: cat, RemindAfter: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
			Notify: func(_ context.Context, kind, object, user string) {
				r.mu.Lock()
				r.notes = append(r.notes, self+":"+kind+":"+user)
				r.mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		s.SetCarrier(carrier{n: r.net, from: self})
		s.Start()
		t.Cleanup(func() { s.Close(); al.Close() })
		r.net.nodes[self] = s
		return s
	}
	r.home, r.prov = open(homeID), open(provID)
	return r
}

// sent is Anna's request (newRequest) from the citizen on home, delivered
// to the provider.
func (r *rig) sent(t *testing.T) Request {
	t.Helper()
	req, err := r.home.Create(context.Background(), citizen, newRequest(), "Anna")
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	return req
}

func (r *rig) settle(t *testing.T) {
	t.Helper()
	poll.Until(t, 5*time.Second, "the outboxes to empty", func() bool {
		return r.home.Outbox().Pending("") == 0 && r.prov.Outbox().Pending("") == 0
	})
}

func newRequest() NewRequest {
	return NewRequest{Offerings: []string{"off1"}, For: "self", Municipality: "015146", Start: "2026-12-20", Notes: "la mattina", Consent: true}
}

// TestRequestFlow runs request, offer, accept, a refused and an allowed
// transition, a message with receipt and a payment between two services.
func TestRequestFlow(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	in, err := r.prov.Get(ctx, manager, req.ID)
	if err != nil || in.Home != homeID || in.CitizenName != "Anna" {
		t.Fatalf("inbox: %+v %v", in, err)
	}
	if _, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: -1, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}); problem.As(err) == nil || problem.As(err).Status != 400 {
		t.Fatalf("negative price: %v", err)
	}
	o, err := r.prov.MakeOffer(ctx, manager, req.ID, NewOffer{Price: 20, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if _, err := r.home.Accept(ctx, stranger, req.ID, o.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("another citizen accepted: %v", err)
	}
	c, err := r.home.Accept(ctx, citizen, req.ID, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	pc, err := r.prov.Case(ctx, manager, c.ID)
	if err != nil || pc.State != CaseActive || pc.Version != 1 {
		t.Fatalf("provider case: %+v %v", pc, err)
	}
	if _, err := r.prov.Transition(ctx, manager, c.ID, TransitionRequest{To: CaseActive}); problem.As(err) == nil || problem.As(err).Status != 409 {
		t.Fatalf("active from active: %v", err)
	}
	if _, err := r.prov.Transition(ctx, manager, c.ID, TransitionRequest{To: ToRenewed, Price: 22}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.home.Send(ctx, citizen, c.ID, NewMessage{Text: "buongiorno"}); err != nil {
		t.Fatal(err)
	}
	big := &Attachment{Name: "a.pdf", Type: "application/pdf", Data: append([]byte("%PDF-"), make([]byte, MaxAttachment)...)}
	if _, err := r.home.Send(ctx, citizen, c.ID, NewMessage{Text: "x", Attachment: big}); problem.As(err) == nil || problem.As(err).Status != 413 {
		t.Fatalf("oversized attachment: %v", err)
	}
	r.settle(t)
	if ms, err := r.prov.Messages(ctx, manager, c.ID); err != nil || len(ms) != 1 {
		t.Fatalf("provider messages: %v %v", ms, err)
	}
	if _, err := r.prov.RecordPayment(ctx, manager, c.ID, PaymentRequest{Amount: 20, Method: "contanti"}); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	hc, _ := r.home.Case(ctx, citizen, c.ID)
	p, _ := r.home.CasePayments(ctx, citizen, c.ID)
	if hc.Version != 3 || hc.Messages[0].ReadAt == nil || p.DueTotal != 42 || p.Paid != 20 || p.Payments[0].Receipt == "" {
		t.Fatalf("home case %+v, payments %+v", hc, p)
	}
	if _, err := r.home.RecordPayment(ctx, citizen, c.ID, PaymentRequest{Amount: 1}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("citizen recorded a payment: %v", err)
	}
	if d, _ := r.home.Demand(ctx, auth.Actor{Username: "admin", Role: auth.Admin}); len(d) != 1 || d[0].Count != 1 || d[0].Municipality != "015146" {
		t.Fatalf("demand %+v", d)
	}
}

// TestHostilePeer: a forged sender, a replayed message, an offer for a
// request never sent to that peer, an undecodable frame: each refused or
// ignored, nothing changed.
func TestHostilePeer(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	offer := func(id string) []byte {
		b, _ := encode(id, provID, MsgOffer, req.ID, wireOffer{Offer: Offer{ID: "of-abcdefgh12", Request: req.ID, Provider: provID,
			Price: 1, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}})
		return b
	}
	refused := func(ans []byte) string {
		var a Answer
		_ = json.Unmarshal(ans, &a)
		return a.Refused
	}
	if got := refused(r.home.HandleRemote(ctx, "12D3KooWMallory", offer("ms-aaaaaaaa1"))); got != "forged_sender" {
		t.Errorf("forged sender: %q", got)
	}
	if got := refused(r.home.HandleRemote(ctx, provID, []byte(`{"v":1}`))); got != "bad_message" {
		t.Errorf("bad frame: %q", got)
	}
	if got := refused(r.home.HandleRemote(ctx, provID, offer("ms-aaaaaaaa2"))); got != "" {
		t.Fatalf("genuine offer refused: %q", got)
	}
	if got := refused(r.home.HandleRemote(ctx, provID, offer("ms-aaaaaaaa2"))); got != "" {
		t.Errorf("replay not acknowledged: %q", got)
	}
	if got := refused(r.home.HandleRemote(ctx, provID, offer("ms-aaaaaaaa3"))); got != "offer_exists" {
		t.Errorf("duplicate offer under a new id: %q", got)
	}
	mine, _ := r.home.Get(ctx, citizen, req.ID)
	if len(mine.Offers) != 1 {
		t.Fatalf("offers %d, want 1", len(mine.Offers))
	}
	// A third node, never asked, cannot answer.
	b, _ := encode("ms-aaaaaaaa4", "12D3KooWThird", MsgDecline, req.ID, wireDecline{Reason: "no"})
	if got := refused(r.home.HandleRemote(ctx, "12D3KooWThird", b)); got != "not_asked" {
		t.Errorf("third node: %q", got)
	}
}

// TestReminders: a request unanswered for RemindAfter reminds the
// provider once, flags the delivery for the citizen and counts once; an
// unreachable provider's request waits in the outbox meanwhile.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	req := r.sent(t)
	r.clk.Advance(30 * time.Minute)
	r.home.Remind(ctx)
	r.prov.Remind(ctx)
	if m, _ := r.home.Get(ctx, citizen, req.ID); m.Deliveries[0].Flagged {
		t.Fatal("flagged too early")
	}
	r.clk.Advance(31 * time.Minute)
	r.home.Remind(ctx)
	r.prov.Remind(ctx)
	r.home.Remind(ctx)
	if m, _ := r.home.Get(ctx, citizen, req.ID); !m.Deliveries[0].Flagged {
		t.Fatal("not flagged")
	}
	if p, _ := r.prov.Get(ctx, manager, req.ID); !p.Reminded {
		t.Fatal("provider not reminded")
	}
	n := 0
	for _, d := range r.home.dem.list() {
		if d.Kind == DemandUnanswered {
			n += int(d.Count)
		}
	}
	if n != 1 {
		t.Fatalf("unanswered counted %d times", n)
	}
	r.mu.Lock()
	notes := strings.Join(r.notes, " ")
	r.mu.Unlock()
	if !strings.Contains(notes, provID+":reminder:") || !strings.Contains(notes, homeID+":unanswered:anna") {
		t.Fatalf("notes %s", notes)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []struct {
		typ  string
		body any
	}{
		{MsgRequest, wireRequest{Offerings: []OfferingRef{{Publisher: provID, ID: "off1"}}, Need: Need{For: "self", Municipality: "015146", Start: "2026-12-20"}}},
		{MsgOffer, wireOffer{Offer: Offer{ID: "of-abcdefgh12", Price: 1, Unit: "ora", Start: "2026-12-21", ValidUntil: "2026-12-31"}}},
		{MsgDecline, wireDecline{Reason: "no"}},
		{MsgAccept, wireAccept{Offer: "of-abcdefgh12", Case: "pr-abcdefgh12"}},
		{MsgWithdraw, wireWithdraw{}},
		{MsgTransition, wireTransition{Case: "pr-abcdefgh12", To: CaseSuspended}},
		{MsgCase, wireCase{Case: "pr-abcdefgh12", State: CaseActive, Version: 2}},
		{MsgMessage, wireMessage{Case: "pr-abcdefgh12", Message: Message{ID: "mg-abcdefgh12", Side: SideCitizen, Text: "ciao",
			Attachment: &Attachment{Name: "a.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nxx")}}}},
		{MsgRead, wireRead{Case: "pr-abcdefgh12", Side: SideProvider, IDs: []string{"mg-abcdefgh12"}}},
		{MsgRequestMessage, wireRequestMessage{Message: Message{ID: "mg-abcdefgh12", Side: SideProvider, Text: "ciao"}}},
		{MsgRequestRead, wireRequestRead{Side: SideCitizen, IDs: []string{"mg-abcdefgh12"}}},
	} {
		b, err := encode("ms-abcdefgh12", homeID, seed.typ, "rq-abcdefgh12", seed.body)
		if err != nil {
			f.Fatal(err)
		}
		if _, _, err := Decode(b); err != nil {
			f.Fatalf("seed %s: %v", seed.typ, err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"id":"ms-abcdefgh12","from":"x","type":"offer","request":"rq-abcdefgh12","body":{}} {}`))
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
		// What decodes re-encodes and decodes the same way.
		again, err := encode(e.ID, e.From, e.Type, e.Request, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded message refused: %v", err)
		}
	})
}

// TestWaitInbox: a waiter wakes when a request lands in the inbox, not
// before; one that asks for more than arrives ends with its context.
func TestWaitInbox(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := r.prov.WaitInbox(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an empty inbox: %v", err)
	}
	woke := make(chan error, 1)
	go func() { woke <- r.prov.WaitInbox(ctx, 1) }()
	select {
	case err := <-woke:
		t.Fatalf("woke before any request: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	r.sent(t)
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by the request")
	}
	short2, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if err := r.prov.WaitInbox(short2, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("two requests awaited, one sent: %v", err)
	}
}
