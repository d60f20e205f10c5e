package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/difronte/difronte/node/audit"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAlertChainCarriesNoPersonalData runs every kind of alert chain
// (contacts from the registry, a chain set by the coop with e-mail, in-app
// and webhook links, the other caregivers in-app) through sends, repeats,
// escalation, exhaustion, acknowledgement by link and in-app, and closing;
// no contact's name, e-mail or phone may appear in a timeline, an alert
// record, what a webhook receives, the audit log or the log.
func TestAlertChainCarriesNoPersonalData(t *testing.T) {
	r := newRig(t)
	logs := &lockedBuffer{}
	r.cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.cfg.Notify = failing{r.out} // the log line of a failed queueing too
	r.open()
	ctx := context.Background()
	canaries := []string{"CanaryBenXq", "CanaryFamXq", "canaryfam@example.org", "+39 333 0001111", "CanaryRelXq",
		"CanarySsXq", "canaryss@example.org", "+39 0965 0002222", "CanaryNbXq", "+39 333 0003333",
		"CanaryChainXq", "canarychain@example.org", "CanaryHookXq", "CanaryInappXq"}
	p := r.dir.people["b1"]
	p.Name = "CanaryBenXq"
	p.Contacts = []Contact{
		{Kind: "family", Name: "CanaryFamXq", Email: "canaryfam@example.org", Phone: "+39 333 0001111", Relation: "CanaryRelXq"},
		{Kind: "social_services", Name: "CanarySsXq", Email: "canaryss@example.org", Phone: "+39 0965 0002222"},
		{Kind: "neighbour", Name: "CanaryNbXq", Phone: "+39 333 0003333"},
	}
	r.dir.people["b1"] = p

	// Registry chain: family, then social services; every action.
	r.call("call1", true)
	o := problemOutcome("k1")
	o.Actions = []string{ActAlertFamily, ActAlertSocial, ActAlertCaregivers, ActEmergency}
	if _, err := r.svc.RecordOutcome(ctx, carla, o); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		r.advance(10 * time.Minute) // repeats, escalation, exhaustion
	}
	// The coop's chain: in-app, webhook, e-mail; acknowledged by link.
	if _, err := r.svc.SaveSettings(ctx, admin, Settings{Beneficiary: "b1", Chain: []Link{
		{Kind: "family", Name: "CanaryInappXq", Channel: "inapp", To: "admin"},
		{Kind: "other", Name: "CanaryHookXq", Channel: "webhook", To: "https://hooks.example/escalation"},
		{Kind: "gp", Name: "CanaryChainXq", Channel: "email", To: "canarychain@example.org"},
	}}); err != nil {
		t.Fatal(err)
	}
	r.call("call2", true)
	o = problemOutcome("k2")
	o.Call = "call2"
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		r.advance(10 * time.Minute)
	}
	if ms := r.out.to("canarychain@example.org"); len(ms) > 0 {
		u := ms[0].AckURL
		if _, err := r.svc.AckByToken(ctx, u[strings.LastIndex(u, "/")+1:], "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Fatal("the chain never reached its e-mail link")
	}
	if _, err := r.svc.CloseCase(ctx, admin, got.Case); err != nil {
		t.Fatal(err)
	}
	if len(r.out.to("https://hooks.example/escalation")) == 0 {
		t.Fatal("the webhook link was never alerted")
	}

	where := map[string]any{}
	where["cases"] = r.svc.cases.Filter(func(*Case) bool { return true })
	where["alerts (stored)"] = r.svc.alerts.Filter(func(*Alert) bool { return true })
	var sent []any
	for _, m := range r.out.all() {
		// What a webhook receives (node/notify's WebhookBody) and what an
		// e-mail or inbox shows; To is the address itself.
		sent = append(sent, map[string]any{"id": m.ID, "ref": m.Ref, "subject": m.Subject, "text": m.Body, "ack_url": m.AckURL, "data": m.Data})
	}
	where["messages"] = sent
	evs, err := r.audit.Query(ctx, audit.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	where["audit"] = evs
	for name, v := range where {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s hold %q", name, c)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, "alert not queued") {
		t.Fatalf("nothing logged, the log check proves nothing:\n%s", out)
	}
	for _, c := range canaries {
		if strings.Contains(out, c) {
			t.Errorf("log holds %q", c)
		}
	}
}

// failing queues every message and fails every third, as a full disk
// would, so the error path's log line is checked too.
type failing struct{ *sink }

func (f failing) Enqueue(ctx context.Context, m Message) error {
	if err := f.sink.Enqueue(ctx, m); err != nil {
		return err
	}
	if len(f.sink.all())%3 == 0 {
		return errFull
	}
	return nil
}

var errFull = errorString("queue full")

type errorString string

func (e errorString) Error() string { return string(e) }
