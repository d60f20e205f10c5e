package catalogue

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu        sync.Mutex
	published []string
	withdrawn []string
}

func (r *recorder) PublishOffering(_ context.Context, o schema.Offering) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, o.ID)
	return nil
}

func (r *recorder) WithdrawOffering(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.withdrawn = append(r.withdrawn, id)
	return nil
}

// newStoreAndAudit is an in-memory store with an audit log closed at the
// end of the test.
func newStoreAndAudit(t *testing.T) (*store.Store, *audit.Log) {
	t.Helper()
	st := store.NewMemory()
	al, err := audit.Open(context.Background(), st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	return st, al
}

func offering(name string) schema.Offering {
	return schema.Offering{Name: name, Description: "Aiuto a casa.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"},
		Languages: []string{"it"}, Contact: schema.Contact{Phone: "+39 02 1234567"}, Status: schema.StatusActive}
}

func TestOwnLifecyclePublishesAndAudits(t *testing.T) {
	ctx := context.Background()
	st, al := newStoreAndAudit(t)
	own, err := OpenOwn(ctx, st.Namespace("/own"), al, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	own.SetPublisher(pub)
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	oper := auth.Actor{Username: "oper", Role: auth.Operator}

	o, err := own.Create(ctx, admin, offering("Assistenza"))
	if err != nil {
		t.Fatal(err)
	}
	if !schema.IsUUID(o.ID) || o.CreatedAt.IsZero() {
		t.Fatalf("created %+v", o)
	}
	if _, err := own.Create(ctx, oper, offering("X")); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("operator created: %v", err)
	}
	bad := offering("")
	if _, err := own.Create(ctx, admin, bad); err == nil {
		t.Fatal("offering without a name accepted")
	} else if p := problem.As(err); p.Fields["name"] == "" {
		t.Fatalf("field error missing: %+v", p)
	}
	if got, err := own.Get(ctx, oper, o.ID); err != nil || got.Name != "Assistenza" {
		t.Fatalf("operator read: %+v %v", got, err)
	}
	upd := offering("Assistenza completa")
	upd.ID = "ignored"
	o2, err := own.Update(ctx, admin, o.ID, upd)
	if err != nil || o2.ID != o.ID || !o2.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("update: %+v %v", o2, err)
	}
	if _, err := own.Archive(ctx, admin, o.ID); err != nil {
		t.Fatal(err)
	}
	total, items, _ := own.List(ctx, admin, "", false, 0, 0)
	if total != 0 || len(items) != 0 {
		t.Fatalf("archived offering listed: %d", total)
	}
	total, _, _ = own.List(ctx, oper, "COMPLETA", true, 0, 10)
	if total != 1 || own.Count() != 0 || len(own.All()) != 1 {
		t.Fatalf("archived list %d, count %d", total, own.Count())
	}
	if len(pub.published) != 2 || len(pub.withdrawn) != 1 || pub.withdrawn[0] != o.ID {
		t.Fatalf("publisher saw %+v", pub)
	}
	evs, _ := al.Query(ctx, audit.Filter{Object: o.ID})
	if len(evs) != 3 {
		t.Fatalf("audit has %d events for the offering, want create, update, archive", len(evs))
	}
	if _, _, err := own.List(ctx, auth.Actor{Username: "c", Role: auth.Caregiver}, "", false, 0, 0); !errors.Is(err, problem.ErrForbidden) {
		t.Fatal("caregiver listed own offerings")
	}
	// Import keeps a given id.
	in := offering("Importata")
	in.ID = "6f1c1d2e-8a4b-4c3d-9e8f-0a1b2c3d4e5f"
	if got, err := own.Import(ctx, admin, in); err != nil || got.ID != in.ID {
		t.Fatalf("import: %+v %v", got, err)
	}
}

type failing struct{ recorder }

func (*failing) PublishOffering(context.Context, schema.Offering) error {
	return errors.New("federation unreachable")
}

// TestUnpublishedMarks checks that a start republishes only what the
// federation may lack: changes stored without a publisher or whose publish
// failed stay marked; published ones are unmarked; a data directory from
// before the marks gets one full pass.
func TestUnpublishedMarks(t *testing.T) {
	ctx := context.Background()
	st, al := newStoreAndAudit(t)
	open := func() *Own {
		own, err := OpenOwn(ctx, st.Namespace("/own"), al, nil)
		if err != nil {
			t.Fatal(err)
		}
		return own
	}
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	unpublished := func(own *Own) []string {
		ids, err := own.Unpublished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	// An older data directory: offerings but no marks, so every one.
	own := open()
	a, err := own.Create(ctx, admin, offering("Pasti a domicilio"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := own.Create(ctx, admin, offering("Compagnia"))
	if err != nil {
		t.Fatal(err)
	}
	if got := unpublished(own); len(got) != 2 {
		t.Fatalf("before the marks are complete: unpublished %v, want both offerings", got)
	}
	for _, id := range []string{a.ID, b.ID} {
		if err := own.Published(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := own.MarksComplete(ctx); err != nil {
		t.Fatal(err)
	}
	if got := unpublished(own); len(got) != 0 {
		t.Fatalf("after the full pass: unpublished %v, want none", got)
	}

	// A publish that fails leaves its mark; one that succeeds clears it.
	own = open()
	own.SetPublisher(&failing{})
	if _, err := own.Update(ctx, admin, a.ID, offering("Pasti caldi a domicilio")); err == nil {
		t.Fatal("update with an unreachable federation: want the publish error")
	}
	if got := unpublished(own); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("after a failed publish: unpublished %v, want [%s]", got, a.ID)
	}
	pub := &recorder{}
	own = open()
	own.SetPublisher(pub)
	if _, err := own.Update(ctx, admin, b.ID, offering("Compagnia e letture")); err != nil {
		t.Fatal(err)
	}
	if got := unpublished(own); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("after a successful publish of %s: unpublished %v, want only [%s]", b.ID, got, a.ID)
	}

	// Without a publisher (a node without federation) changes stay marked.
	own = open()
	c, err := own.Create(ctx, admin, offering("Trasporto"))
	if err != nil {
		t.Fatal(err)
	}
	if got := unpublished(own); len(got) != 2 || !(got[0] == c.ID || got[1] == c.ID) {
		t.Fatalf("after a change without federation: unpublished %v, want %s and %s", got, a.ID, c.ID)
	}
}
