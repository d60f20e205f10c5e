package escalation

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

type fakeDir struct {
	people map[string]Person
	users  map[string]string
	admins []string
}

func (d *fakeDir) Beneficiary(_ context.Context, id string) (Person, bool) {
	p, ok := d.people[id]
	return p, ok
}
func (d *fakeDir) CaregiverUser(_ context.Context, id string) (string, bool) {
	u, ok := d.users[id]
	return u, ok
}
func (d *fakeDir) Admins(context.Context) []string { return d.admins }

type sink struct {
	mu   sync.Mutex
	msgs []Message
}

func (s *sink) Enqueue(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.msgs, func(x Message) bool { return x.ID == m.ID }) {
		return nil
	}
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sink) to(addr string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func (s *sink) all() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

type fakeSchedules struct {
	mu    sync.Mutex
	slots []Slot
}

func (f *fakeSchedules) Slots(_ context.Context, from, to time.Time) ([]Slot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Slot
	for _, s := range f.slots {
		if !s.Start.Before(from) && s.Start.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

type presence struct {
	mu     sync.Mutex
	online map[string]bool
}

func (p *presence) TerminalOnline(b string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.online[b]
}

type grants map[string]bool // peer/caregiver/beneficiary

func (g grants) Granted(_ context.Context, peer, cg, ben string) bool { return g[peer+"/"+cg+"/"+ben] }

// rig is one node's escalation service on a store that outlives restarts.
type rig struct {
	t     testing.TB
	store ds.Batching
	audit *audit.Log
	clock *fakeclock.Clock
	dir   *fakeDir
	out   *sink
	sched *fakeSchedules
	pres  *presence
	svc   *Service
	cfg   Config
}

var (
	admin = auth.Actor{Username: "admin", Role: auth.Admin}
	carla = auth.Actor{Username: "carla", Role: auth.Caregiver, CaregiverID: "cg1"}
	other = auth.Actor{Username: "otto", Role: auth.Caregiver, CaregiverID: "cg9"}
)

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{t: t, store: store.NewMemory().Datastore(), clock: fakeclock.New(t0), out: &sink{},
		sched: &fakeSchedules{}, pres: &presence{online: map[string]bool{}}}
	r.dir = &fakeDir{
		people: map[string]Person{"b1": {ID: "b1", Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "001272",
			BirthYear: 1936, Fragility: []string{"alone"}, Notes: "diabetic", Caregivers: []string{"cg1", "cg2"},
			Contacts: []Contact{
				{Kind: "family", Name: "Luca Rossi", Email: "luca@example.org"},
				{Kind: "social_services", Name: "Servizi sociali", Email: "ss@example.org"},
				{Kind: "neighbour", Name: "Anna", Phone: "333"},
			}}},
		users:  map[string]string{"cg1": "carla", "cg2": "gino"},
		admins: []string{"admin"},
	}
	var err error
	r.audit, err = audit.Open(context.Background(), r.store, r.clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.audit.Close() })
	r.cfg = Config{Store: r.store, Audit: r.audit, Dir: r.dir, Notify: r.out, Clock: r.clock,
		Schedules: r.sched, Presence: r.pres, BaseURL: "https://coop.example", CoopPhone: "+39 011 000",
		RepeatAfter: 10 * time.Minute, Repeats: 1, EscalateAfter: 20 * time.Minute, Retries: 3, Grace: 30 * time.Minute}
	r.open()
	return r
}

func (r *rig) open() {
	r.t.Helper()
	s, err := Open(context.Background(), r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc = s
}

// restart drops the service and opens a new one on the same store.
func (r *rig) restart() {
	r.t.Helper()
	r.svc.Close()
	r.open()
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.clock.Advance(d)
	if err := r.svc.RunDue(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) call(id string, answered bool) {
	r.t.Helper()
	ctx := context.Background()
	if err := r.svc.Record(ctx, Event{Type: CallPlaced, Beneficiary: "b1", Caregiver: "cg1", Call: id}); err != nil {
		r.t.Fatal(err)
	}
	typ := CallUnanswered
	if answered {
		typ = CallAnswered
	}
	if err := r.svc.Record(ctx, Event{Type: typ, Beneficiary: "b1", Caregiver: "cg1", Call: id}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) cases() []Case {
	r.t.Helper()
	cs, err := r.svc.Cases(context.Background(), admin, CaseQuery{})
	if err != nil {
		r.t.Fatal(err)
	}
	return cs
}

func (r *rig) auditHas(kind, detailPrefix string) bool {
	r.t.Helper()
	evs, err := r.audit.Query(context.Background(), audit.Filter{Kind: kind, Limit: 500})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range evs {
		if len(e.Detail) >= len(detailPrefix) && e.Detail[:len(detailPrefix)] == detailPrefix {
			return true
		}
	}
	return false
}
