package workers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Worker is the coop's private record of a family assistant who wants
// work. Everything but Profile stays on the node; Profile is what
// Publish signs and sends, once the worker agreed and the coop checked.
type Worker struct {
	ID        string  `json:"id"` // also the public profile's id
	FullName  string  `json:"full_name"`
	Phone     string  `json:"phone,omitempty"`
	Email     string  `json:"email,omitempty"`
	Address   string  `json:"address,omitempty"`
	Documents string  `json:"documents,omitempty"` // which documents the coop saw
	Consent   Consent `json:"consent"`
	Check     Check   `json:"check"`
	// Profile is the public part; its id and checked_on are set from the
	// record's.
	Profile schema.WorkerProfile `json:"profile"`
	// Status is draft, published or withdrawn; set by Publish and Withdraw.
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// LogValue logs only the id: the record is a person's private data.
func (w Worker) LogValue() slog.Value { return slog.StringValue(w.ID) }

// Consent is the worker's recorded consent to publish the profile.
type Consent struct {
	Given       bool   `json:"given"`
	Date        string `json:"date,omitempty"` // YYYY-MM-DD
	CollectedBy string `json:"collected_by,omitempty"`
}

// Check is the coop's check of the worker: identity seen, references called.
type Check struct {
	IdentitySeen bool        `json:"identity_seen"`
	Date         string      `json:"date,omitempty"` // YYYY-MM-DD: the profile's checked_on
	By           string      `json:"by,omitempty"`
	References   []Reference `json:"references,omitempty"`
}

// Reference is one reference the coop called.
type Reference struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	CalledBy string `json:"called_by,omitempty"`
	CalledOn string `json:"called_on,omitempty"` // YYYY-MM-DD
	Outcome  string `json:"outcome,omitempty"`
}

// Statuses of a worker record.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusWithdrawn = "withdrawn"
)

// Log is the federation's log as the workers publish into it.
type Log interface {
	Publish(ctx context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error)
	Withdraw(ctx context.Context, kind schema.Kind, key string) (*schema.Entry, error)
}

// Service keeps the coop's worker records and publishes their profiles.
type Service struct {
	col   *store.Collection[Worker]
	audit *audit.Log
	clk   clock.Clock
	log   Log // nil without federation: Publish refuses
	coop  string
	mu    sync.Mutex
}

// Open loads the worker records from d (the node's /workers namespace).
// coop is the node's coop name, the profiles' vouching coop.
func Open(ctx context.Context, d store.Namespace, log *audit.Log, clk clock.Clock, fed Log, coop string) (*Service, error) {
	col, err := store.LoadCollection(ctx, d, "/worker/", func(w *Worker) string { return w.ID })
	if err != nil {
		return nil, err
	}
	return &Service{col: col, audit: log, clk: clock.Or(clk), log: fed, coop: coop}, nil
}

// mayManage: the coop's admin and its proximity-point operators register workers.
func mayManage(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Operator }

func (s *Service) event(a auth.Actor, act audit.Action, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: "worker", Object: id, Remote: a.Remote, Detail: detail}
}

func (s *Service) deny(ctx context.Context, a auth.Actor, id string) error {
	_ = s.audit.Record(ctx, s.event(a, audit.Denied, id, "worker"))
	return problem.ErrForbidden
}

// Create registers a worker as a draft.
func (s *Service) Create(ctx context.Context, a auth.Actor, w Worker) (Worker, error) {
	if !mayManage(a) {
		return Worker{}, s.deny(ctx, a, "")
	}
	now := s.clk.Now().UTC()
	w.ID, w.Status, w.Created, w.Updated = newUUID(), StatusDraft, now, now
	if err := s.check(&w); err != nil {
		return Worker{}, err
	}
	if err := s.col.Put(ctx, w); err != nil {
		return Worker{}, err
	}
	return w, s.audit.Record(ctx, s.event(a, audit.Create, w.ID, ""))
}

// Get returns one record, audited.
func (s *Service) Get(ctx context.Context, a auth.Actor, id string) (Worker, error) {
	if !mayManage(a) {
		return Worker{}, s.deny(ctx, a, id)
	}
	w, ok := s.col.Get(id)
	if !ok {
		return Worker{}, problem.ErrNotFound
	}
	s.audit.Note(s.event(a, audit.Read, id, ""))
	return w, nil
}

// List returns every record, newest change first is left to the page.
func (s *Service) List(ctx context.Context, a auth.Actor) ([]Worker, error) {
	if !mayManage(a) {
		return nil, s.deny(ctx, a, "")
	}
	s.audit.Note(s.event(a, audit.List, "", ""))
	return s.col.Filter(func(*Worker) bool { return true }), nil
}

// Update replaces the record's fields; a published profile is published
// again with the change.
func (s *Service) Update(ctx context.Context, a auth.Actor, id string, w Worker) (Worker, error) {
	if !mayManage(a) {
		return Worker{}, s.deny(ctx, a, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.col.Get(id)
	if !ok {
		return Worker{}, problem.ErrNotFound
	}
	w.ID, w.Status, w.Created, w.Updated = id, old.Status, old.Created, s.clk.Now().UTC()
	if err := s.check(&w); err != nil {
		return Worker{}, err
	}
	if w.Status == StatusPublished {
		if err := s.publishable(&w); err != nil {
			return Worker{}, err
		}
		if err := s.send(ctx, w); err != nil {
			return Worker{}, err
		}
	}
	if err := s.col.Put(ctx, w); err != nil {
		return Worker{}, err
	}
	return w, s.audit.Record(ctx, s.event(a, audit.Update, id, ""))
}

// Publish signs the worker's profile into the federation's log.
func (s *Service) Publish(ctx context.Context, a auth.Actor, id string) (Worker, error) {
	return s.transition(ctx, a, id, "publish", func(w *Worker) error {
		if err := s.publishable(w); err != nil {
			return err
		}
		w.Status = StatusPublished
		return s.send(ctx, *w)
	})
}

// Withdraw publishes the profile's tombstone: it disappears on every node.
func (s *Service) Withdraw(ctx context.Context, a auth.Actor, id string) (Worker, error) {
	return s.transition(ctx, a, id, "withdraw", func(w *Worker) error {
		if w.Status != StatusPublished {
			return problem.New(http.StatusConflict, "not_published", "the profile is not published")
		}
		if s.log == nil {
			return problem.New(http.StatusServiceUnavailable, "no_federation", "this node runs without federation")
		}
		if e, err := s.log.Withdraw(ctx, schema.KindWorker, w.ID); err != nil && e == nil {
			return err
		}
		w.Status = StatusWithdrawn
		return nil
	})
}

func (s *Service) transition(ctx context.Context, a auth.Actor, id, what string, fn func(*Worker) error) (Worker, error) {
	if !mayManage(a) {
		return Worker{}, s.deny(ctx, a, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.col.Get(id)
	if !ok {
		return Worker{}, problem.ErrNotFound
	}
	if err := fn(&w); err != nil {
		return Worker{}, err
	}
	w.Updated = s.clk.Now().UTC()
	if err := s.col.Put(ctx, w); err != nil {
		return Worker{}, err
	}
	return w, s.audit.Record(ctx, s.event(a, audit.Update, id, what))
}

// send publishes the profile; an entry stored but not yet gossiped
// counts as published (catch-up spreads it).
func (s *Service) send(ctx context.Context, w Worker) error {
	if s.log == nil {
		return problem.New(http.StatusServiceUnavailable, "no_federation", "this node runs without federation")
	}
	body, err := json.Marshal(w.Profile)
	if err != nil {
		return err
	}
	if e, err := s.log.Publish(ctx, schema.KindWorker, w.ID, body); err != nil && e == nil {
		return err
	}
	return nil
}

// publishable: consent recorded, identity seen, profile valid.
func (s *Service) publishable(w *Worker) error {
	f := map[string]string{}
	if !w.Consent.Given || w.Consent.Date == "" {
		f["consent"] = "the worker's consent, with its date, is needed before publishing"
	}
	if !w.Check.IdentitySeen || w.Check.Date == "" {
		f["check"] = "the coop must have seen the worker's identity, and say when, before publishing"
	}
	if err := w.Profile.Validate(); err != nil {
		var fe schema.FieldErrors
		if errors.As(err, &fe) {
			for k, v := range fe.Fields() {
				f["profile."+k] = v
			}
		} else {
			return err
		}
	}
	return problem.Invalid(f)
}

// newUUID returns a random (version 4) UUID, the profile's entry key.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// check validates the private fields and fills the profile's id and date
// of check from the record's. The profile itself is validated whole at
// Publish; free text that hides a contact is refused at once.
func (s *Service) check(w *Worker) error {
	w.Profile.ID, w.Profile.CheckedOn, w.Profile.Coop = w.ID, w.Check.Date, s.coop
	f := map[string]string{}
	text := func(field, v string, required bool, max int, multiline bool) {
		if required && v == "" {
			f[field] = "is required"
			return
		}
		if code := schema.TextFault(v, max, multiline); code != "" {
			f[field] = code
		}
	}
	text("full_name", w.FullName, true, 200, false)
	text("phone", w.Phone, false, 40, false)
	text("email", w.Email, false, 200, false)
	text("address", w.Address, false, 400, false)
	text("documents", w.Documents, false, 1000, true)
	text("consent.collected_by", w.Consent.CollectedBy, false, 200, false)
	text("check.by", w.Check.By, false, 200, false)
	date := func(field, v string) {
		if v == "" {
			return
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			f[field] = "must be a date YYYY-MM-DD"
		}
	}
	date("consent.date", w.Consent.Date)
	date("check.date", w.Check.Date)
	if len(w.Check.References) > 10 {
		f["check.references"] = "at most 10 references"
	}
	for i, r := range w.Check.References {
		p := fmt.Sprintf("check.references[%d].", i)
		text(p+"name", r.Name, true, 200, false)
		text(p+"phone", r.Phone, false, 40, false)
		text(p+"called_by", r.CalledBy, false, 200, false)
		text(p+"outcome", r.Outcome, false, 1000, true)
		date(p+"called_on", r.CalledOn)
	}
	for field, v := range map[string]string{"profile.alias": w.Profile.Alias, "profile.presentation": w.Profile.Presentation} {
		if what := schema.ContactHidden(v); what != "" {
			f[field] = "hides " + what + ": contacts go through the coop"
		}
	}
	return problem.Invalid(f)
}

// Record returns one record to the node itself, unaudited: the contact
// flow (node/contacts) reads a worker's status and, once she accepted to
// meet a family, her contacts, and audits that itself.
func (s *Service) Record(id string) (Worker, bool) { return s.col.Get(id) }
