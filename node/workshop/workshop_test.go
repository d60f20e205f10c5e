package workshop

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/photo/phototest"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	admin  = auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}
	luca   = auth.Actor{Username: "luca", Role: auth.Refurbisher, Remote: "127.0.0.1"}
	sara   = auth.Actor{Username: "sara", Role: auth.Refurbisher, Remote: "127.0.0.1"}
	anna   = auth.Actor{Username: "anna", Role: auth.Caregiver, Remote: "127.0.0.1"}
	t0     = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	today  = "2026-06-01"
	benID  = "ben1"
	report = `{"collected_at":"2026-06-01T08:00:00Z","arch":"amd64","cpu":{"model":"Intel Core i5-3320M","cores":2},"ram_mb":4096,
 "disks":[{"name":"sda","model":"ST500LM012","size_gb":500.1,"rotational":true,"smart":"passed"}],
 "battery":{"present":true,"wear_percent":22.5},"screen":{"width":1366,"height":768},
 "webcam":true,"microphone":true,"speakers":true,"network":{"ethernet":true,"wifi":true},
 "bios":{"vendor":"LENOVO","version":"G2ET86WW","date":"2012-11-19"},"rtc_wakealarm":true,"rtc_local_time":false,
 "audio_test":{"recorded":true,"seconds":3}}`
)

// fakeRegistry is care's terminals as the workshop sees them.
type fakeRegistry struct {
	mu  sync.Mutex
	clk *fakeclock.Clock
	ts  map[string]Terminal
	n   int
}

func (f *fakeRegistry) Terminal(_ context.Context, a auth.Actor, id string) (Terminal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a.Role != auth.Admin && a.Role != auth.Refurbisher {
		return Terminal{}, problem.ErrForbidden
	}
	t, ok := f.ts[id]
	if !ok {
		return Terminal{}, problem.ErrNotFound
	}
	return t, nil
}

func (f *fakeRegistry) Terminals(ctx context.Context, a auth.Actor) ([]Terminal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Terminal
	for _, t := range f.ts {
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y Terminal) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

func (f *fakeRegistry) Create(_ context.Context, a auth.Actor, label, model string) (Terminal, error) {
	return f.add(a, label, model, "recovered"), nil
}

func (f *fakeRegistry) add(a auth.Actor, label, model, state string) Terminal {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	t := Terminal{ID: fmt.Sprintf("t%02d", f.n), Label: label, Model: model, State: state, CreatedAt: f.clk.Now(),
		History: []StateStep{{State: state, At: f.clk.Now(), By: a.Username}}}
	f.ts[t.ID] = t
	return t
}

func (f *fakeRegistry) Move(_ context.Context, a auth.Actor, id, from, to, ben string, setBen bool) (Terminal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ts[id]
	if t.State != from {
		return Terminal{}, problem.New(http.StatusConflict, RefusedStateMoved, "moved")
	}
	if setBen {
		if ben != "" && ben != benID {
			return Terminal{}, problem.Invalid(map[string]string{"beneficiary": "unknown_beneficiary"})
		}
		t.Beneficiary = ben
	}
	t.State = to
	t.History = append(slices.Clone(t.History), StateStep{State: to, At: f.clk.Now(), By: a.Username})
	f.ts[id] = t
	return t, nil
}

func open(t *testing.T) (*Service, *fakeRegistry, *fakeclock.Clock, *audit.Log) {
	t.Helper()
	st := store.NewMemory()
	clk := fakeclock.New(t0)
	al, err := audit.Open(context.Background(), st.Namespace("/audit"), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	reg := &fakeRegistry{clk: clk, ts: map[string]Terminal{}}
	s, err := Open(context.Background(), st.Namespace("/workshop"), reg, al, clk, Config{CodeTTL: time.Hour, ProbeRate: 5})
	if err != nil {
		t.Fatal(err)
	}
	return s, reg, clk, al
}

// complete is a checklist that satisfies every item of from → to.
func complete(from, to string) map[string]string {
	cl := map[string]string{}
	for _, it := range Checklist(from, to) {
		switch it.Kind {
		case Check:
			cl[it.Key] = "true"
		case Date:
			cl[it.Key] = today
		case Choice:
			cl[it.Key] = it.Choices[0]
		case Beneficiary:
			cl[it.Key] = benID
		default:
			cl[it.Key] = "fatto da Luca"
		}
	}
	return cl
}

// TestTransitionTable tries every pair of states: the allowed ones move
// (with their checklist), every other is refused with 409 and a reason,
// and the terminal stays where it was.
func TestTransitionTable(t *testing.T) {
	allowed := map[[2]string]bool{}
	for _, p := range [][2]string{
		{"recovered", "wiping"}, {"recovered", "retired"},
		{"wiping", "installing"}, {"wiping", "retired"},
		{"installing", "configuring"}, {"installing", "wiping"}, {"installing", "retired"},
		{"configuring", "testing"}, {"configuring", "installing"}, {"configuring", "retired"},
		{"testing", "ready"}, {"testing", "configuring"}, {"testing", "retired"},
		{"ready", "delivered"}, {"ready", "testing"}, {"ready", "retired"},
		{"delivered", "in_service"}, {"delivered", "ready"},
		{"in_service", "pickup"},
		{"pickup", "wiping"}, {"pickup", "retired"},
		{"retired", "recycled"},
	} {
		allowed[p] = true
	}
	s, reg, _, _ := open(t)
	ctx := context.Background()
	n := 0
	for _, from := range States {
		for _, to := range append(slices.Clone(States), "lost") {
			t.Run(from+"->"+to, func(t *testing.T) {
				term := reg.add(admin, "T", "M", from)
				_, err := s.Move(ctx, luca, term.ID, Transition{To: to, Checklist: complete(from, to)})
				got, _ := reg.Terminal(ctx, admin, term.ID)
				if allowed[[2]string{from, to}] {
					n++
					if err != nil || got.State != to {
						t.Fatalf("allowed move refused: %v (state %s)", err, got.State)
					}
					d := s.device(term.ID)
					if st := d.Steps[len(d.Steps)-1]; st.From != from || st.To != to || st.By != "luca" || !st.At.Equal(t0) {
						t.Fatalf("step recorded %+v", st)
					}
					return
				}
				p := problem.As(err)
				if p.Status != http.StatusConflict || p.Code == "" || got.State != from {
					t.Fatalf("forbidden move: %v (%d %s), state %s", err, p.Status, p.Code, got.State)
				}
				want := RefusedForbidden
				if to == "lost" {
					want = RefusedUnknown
				} else if Final(from) {
					want = RefusedFinal
				}
				if p.Code != want {
					t.Fatalf("refusal %s, want %s", p.Code, want)
				}
			})
		}
	}
	if n != len(allowed) {
		t.Fatalf("table has %d allowed moves, the test knows %d", n, len(allowed))
	}
}

func TestChecklistRequired(t *testing.T) {
	s, reg, _, _ := open(t)
	ctx := context.Background()
	term := reg.add(admin, "T", "M", "wiping")
	cl := complete("wiping", "installing")
	delete(cl, "wipe_method")
	cl["wipe_date"] = "2030-01-01"
	_, err := s.Move(ctx, luca, term.ID, Transition{To: "installing", Checklist: cl})
	p := problem.As(err)
	if p.Status != http.StatusConflict || p.Code != RefusedChecklist || p.Fields["wipe_method"] != "required" || p.Fields["wipe_date"] != "out_of_range" {
		t.Fatalf("incomplete wipe checklist: %v %+v", err, p.Fields)
	}
	cl = complete("wiping", "installing")
	cl["wipe_method"], cl["extra"] = "formatted", "x"
	p = problem.As(errOf(s.Move(ctx, luca, term.ID, Transition{To: "installing", Checklist: cl})))
	if p.Fields["wipe_method"] != "bad_choice" || p.Fields["extra"] != "unknown_item" {
		t.Fatalf("bad items: %+v", p.Fields)
	}
	// Retiring a device straight from intake records the wipe too: its
	// disk still holds the donor's data.
	r := reg.add(admin, "T", "M", "recovered")
	p = problem.As(errOf(s.Move(ctx, luca, r.ID, Transition{To: "retired", Checklist: map[string]string{"reason": "rotto"}})))
	if p.Fields["wipe_method"] != "required" {
		t.Fatalf("retired without a wipe: %+v", p.Fields)
	}
	// A back step asks why.
	te := reg.add(admin, "T", "M", "testing")
	p = problem.As(errOf(s.Move(ctx, luca, te.ID, Transition{To: "configuring"})))
	if p.Fields["reason"] != "required" {
		t.Fatalf("back step without a reason: %+v", p.Fields)
	}
	// Delivery sets the beneficiary; a failed one clears it.
	rd := reg.add(admin, "T", "M", "ready")
	v, err := s.Move(ctx, luca, rd.ID, Transition{To: "delivered", Checklist: complete("ready", "delivered")})
	if err != nil || v.Beneficiary != benID {
		t.Fatalf("delivery: %v %+v", err, v)
	}
	if v, err = s.Move(ctx, luca, rd.ID, Transition{To: "ready", Checklist: map[string]string{"reason": "non era in casa"}}); err != nil || v.Beneficiary != "" {
		t.Fatalf("back to ready: %v %+v", err, v)
	}
	// A caregiver may not move terminals; the refusal is audited.
	if _, err := s.Move(ctx, anna, rd.ID, Transition{To: "testing"}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("caregiver moved a terminal: %v", err)
	}
}

func errOf(_ View, err error) error { return err }

func TestProbeCodeSingleUseAndExpiry(t *testing.T) {
	s, reg, clk, al := open(t)
	ctx := context.Background()
	rep, err := DecodeReport([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.TakeIn(ctx, luca, Intake{Donor: "Studio Rossi", Date: today, Model: "ThinkPad X230", Serial: "PB-123"})
	if err != nil || tk.ID == "" || len(tk.Code) != 12 {
		t.Fatalf("intake: %+v %v", tk, err)
	}
	if reg.ts[tk.ID].State != "recovered" || reg.ts[tk.ID].Label != "PB-123" {
		t.Fatalf("terminal %+v", reg.ts[tk.ID])
	}
	if _, err := s.AttachReport(ctx, "10.0.0.1", "NOPE-NOPE-NOPE", rep); !errors.Is(err, ErrBadCode) {
		t.Fatalf("unknown code: %v", err)
	}
	// Typed in lower case with a dash, as a person would.
	typed := strings.ToLower(tk.Code[:6]) + "-" + tk.Code[6:]
	if id, err := s.AttachReport(ctx, "10.0.0.1", typed, rep); err != nil || id != tk.ID {
		t.Fatalf("first use: %s %v", id, err)
	}
	if v, _ := s.Device(ctx, luca, tk.ID); v.Report == nil || v.Report.CPU.Model != "Intel Core i5-3320M" || v.Donor != "Studio Rossi" {
		t.Fatalf("report not attached: %+v", v)
	}
	if _, err := s.AttachReport(ctx, "10.0.0.1", tk.Code, rep); !errors.Is(err, ErrBadCode) {
		t.Fatalf("second use: %v", err)
	}
	// A new code replaces the old; it expires after the TTL.
	c2, err := s.NewCode(ctx, luca, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	c3, _ := s.NewCode(ctx, luca, tk.ID)
	if _, err := s.AttachReport(ctx, "10.0.0.2", c2.Code, rep); !errors.Is(err, ErrBadCode) {
		t.Fatalf("replaced code used: %v", err)
	}
	clk.Advance(time.Hour)
	if _, err := s.AttachReport(ctx, "10.0.0.2", c3.Code, rep); !errors.Is(err, ErrBadCode) {
		t.Fatalf("expired code used: %v", err)
	}
	// Five requests a minute per address, then 429 even with a good code.
	c4, _ := s.NewCode(ctx, luca, tk.ID)
	for i := 0; i < 5; i++ {
		_, _ = s.AttachReport(ctx, "10.0.0.3", "GUESS"+fmt.Sprint(i), rep)
	}
	if _, err := s.AttachReport(ctx, "10.0.0.3", c4.Code, rep); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("rate limit: %v", err)
	}
	clk.Advance(time.Minute)
	if _, err := s.AttachReport(ctx, "10.0.0.3", c4.Code, rep); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
	evs, _ := al.Query(ctx, audit.Filter{Actor: "system:probe"})
	if len(evs) != 2 || evs[0].Object != tk.ID {
		t.Fatalf("reports not audited: %+v", evs)
	}
	// A photo is a JPEG or PNG whose bytes are one.
	png := "data:image/png;base64," + base64.StdEncoding.EncodeToString(phototest.PNG(8, 8))
	if _, err := s.TakeIn(ctx, luca, Intake{Donor: "D", Date: today, Model: "M", Serial: "S2", Photo: png}); err != nil {
		t.Fatalf("png photo: %v", err)
	}
	fake := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString([]byte("<script>alert(1)</script>"))
	if _, err := s.TakeIn(ctx, luca, Intake{Donor: "D", Date: today, Model: "M", Serial: "S3", Photo: fake}); problem.As(err).Fields["photo"] != "bad_photo" {
		t.Fatalf("a photo that is no image: %v", err)
	}
	// Bad intakes store nothing.
	if _, err := s.TakeIn(ctx, luca, Intake{Donor: "", Date: "ieri", Model: "M", Serial: "S", Photo: "http://x"}); err == nil {
		t.Fatal("bad intake accepted")
	} else if p := problem.As(err); p.Fields["donor"] != "required" || p.Fields["date"] != "bad_date" || p.Fields["photo"] != "bad_photo" {
		t.Fatalf("intake fields %+v", p.Fields)
	}
	if _, err := s.TakeIn(ctx, anna, Intake{Donor: "D", Date: today, Model: "M", Serial: "S"}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("caregiver intake: %v", err)
	}
}

func TestQueueWorklogAndStats(t *testing.T) {
	s, reg, clk, al := open(t)
	ctx := context.Background()
	a, _ := s.TakeIn(ctx, luca, Intake{Donor: "D", Date: today, Model: "X220", Serial: "A"})
	clk.Advance(time.Minute)
	b, _ := s.TakeIn(ctx, sara, Intake{Donor: "D", Date: today, Model: "X230", Serial: "B"})
	clk.Advance(time.Minute)
	c := reg.add(admin, "C", "T440", "recovered") // registered before the workshop
	_ = reg.add(admin, "D", "T440", "in_service")
	reg.ts[c.ID] = func() Terminal { x := reg.ts[c.ID]; x.History[0].At = t0.Add(-time.Hour); return x }()
	q, err := s.Queue(ctx, luca, false)
	if err != nil || q[0].State != "recovered" || len(q[0].Items) != 3 {
		t.Fatalf("queue %+v %v", q, err)
	}
	if ids := []string{q[0].Items[0].ID, q[0].Items[1].ID, q[0].Items[2].ID}; !slices.Equal(ids, []string{c.ID, a.ID, b.ID}) {
		t.Fatalf("queue order %v, want oldest first", ids)
	}
	for _, st := range q {
		if st.State == "in_service" || st.State == "delivered" {
			t.Fatalf("queue lists %s", st.State)
		}
	}
	q, _ = s.Queue(ctx, luca, true)
	if len(q[0].Items) != 1 || q[0].Items[0].ID != a.ID {
		t.Fatalf("mine: %+v", q[0].Items)
	}
	if _, err := s.Take(ctx, luca, c.ID); err != nil {
		t.Fatal(err)
	}
	if q, _ = s.Queue(ctx, luca, true); len(q[0].Items) != 2 {
		t.Fatalf("taken device not mine: %+v", q[0].Items)
	}

	one, h := 90, 1.5
	if _, err := s.LogWork(ctx, luca, WorkEntry{Terminal: a.ID, Step: "wiping", Minutes: &one, Date: today}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogWork(ctx, luca, WorkEntry{Terminal: c.ID, Step: "installing", Hours: &h, Date: today, Note: "Debian 12"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogWork(ctx, sara, WorkEntry{Terminal: b.ID, Step: "wiping", Minutes: &one, Date: today}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []WorkEntry{
		{Terminal: a.ID, Step: "wiping", Minutes: &one, Hours: &h, Date: today},
		{Terminal: a.ID, Step: "wiping", Date: today},
		{Terminal: a.ID, Step: "dusting", Minutes: &one, Date: today},
		{Terminal: "nope", Step: "wiping", Minutes: &one, Date: today},
		{Terminal: a.ID, Step: "wiping", Minutes: &one, Date: "2030-01-01"},
	} {
		if _, err := s.LogWork(ctx, luca, bad); problem.As(err).Status != http.StatusBadRequest {
			t.Fatalf("bad work %+v: %v", bad, err)
		}
	}
	if _, err := s.Move(ctx, luca, a.ID, Transition{To: "wiping"}); err != nil {
		t.Fatal(err)
	}
	sm, err := s.Worker(ctx, admin, "luca")
	if err != nil || sm.Minutes != 180 || sm.Hours != 3 || sm.Devices != 2 || sm.Steps["recovered"] != 1 || len(sm.ByStep) != 3 {
		t.Fatalf("luca's summary %+v %v", sm, err)
	}
	// A worker sees their own record only.
	if _, err := s.Worker(ctx, sara, "luca"); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("sara read luca's record: %v", err)
	}
	if ws, _ := s.Workers(ctx, sara); len(ws) != 1 || ws[0].Worker != "sara" {
		t.Fatalf("sara sees %+v", ws)
	}
	if evs, _ := al.Query(ctx, audit.Filter{Actor: "admin"}); !slices.ContainsFunc(evs, func(e audit.Event) bool { return e.Kind == "worklog" && e.Action == audit.List }) {
		t.Fatalf("read of work records not audited: %+v", evs)
	}
	if _, err := s.Stats(ctx, luca); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("refurbisher read stats: %v", err)
	}
	st, err := s.Stats(ctx, admin)
	if err != nil || st.Recovered != 4 || st.InService != 1 || st.Delivered != 1 || st.KgAvoided != KgPerDevice || st.HoursOfWork != 4.5 || st.Workers != 2 {
		t.Fatalf("stats %+v %v", st, err)
	}
}
