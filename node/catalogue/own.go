package catalogue

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Offering is the stored form of one of the coop's own offerings.
type Offering struct {
	schema.Offering
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Publisher is where a change to an own offering goes after it is stored:
// the federation's signed log. Nil on a node without federation.
type Publisher interface {
	PublishOffering(ctx context.Context, o schema.Offering) error
	WithdrawOffering(ctx context.Context, id string) error
}

// Own is the coop's own offerings.
type Own struct {
	col   *store.Collection[Offering]
	ds    store.Namespace // the collection's namespace; also holds the unpublished marks
	audit *audit.Log
	clk   clock.Clock
	pub   Publisher
}

// An offering is marked unpublished before it is stored and unmarked once
// the federation has its change, so a start republishes only what a crash
// (or a node without federation) left behind, not every offering.
const (
	unpublishedPrefix = "/unpublished/"
	// Data directories from before the marks: one full pass, once.
	marksKey = "/unpublished-marks"
)

// OpenOwn loads the own offerings from d.
func OpenOwn(ctx context.Context, d store.Namespace, log *audit.Log, clk clock.Clock) (*Own, error) {
	col, err := store.LoadCollection(ctx, d, "/offering/", func(o *Offering) string { return o.ID })
	if err != nil {
		return nil, err
	}
	col.EnableListing(func(o *Offering) bool { return o.Archived })
	return &Own{col: col, ds: d, audit: log, clk: clock.Or(clk)}, nil
}

// SetPublisher connects the federation.
func (s *Own) SetPublisher(p Publisher) { s.pub = p }

func canEdit(a auth.Actor) bool { return a.Role == auth.Admin }

// NewUUID returns a random (version 4) UUID: HSDS wants UUID ids.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Own) event(a auth.Actor, act audit.Action, id string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: "offering", Object: id, Remote: a.Remote}
}

// validate fills defaults and maps schema's field errors to a problem.
func validate(o *schema.Offering) error {
	if o.Status == "" {
		o.Status = schema.StatusActive
	}
	err := o.Validate()
	if err == nil {
		return nil
	}
	var fe schema.FieldErrors
	if errors.As(err, &fe) {
		return problem.Invalid(fe.Fields())
	}
	return problem.BadRequest("invalid", err.Error(), nil)
}

// List returns the own offerings, newest id order, for admins and operators.
func (s *Own) List(ctx context.Context, a auth.Actor, search string, archived bool, offset, limit int) (int, []Offering, error) {
	total, items, err := s.page(ctx, a, search, archived, offset, limit)
	if err != nil {
		return 0, nil, err
	}
	out := make([]Offering, len(items))
	for i, o := range items {
		out[i] = *o
	}
	return total, out, nil
}

// ListJSON is List with the offerings' kept JSON encodings: the API's
// answer, without copying or encoding the offerings again.
func (s *Own) ListJSON(ctx context.Context, a auth.Actor, search string, archived bool, offset, limit int) (store.RawPage, error) {
	total, items, err := s.page(ctx, a, search, archived, offset, limit)
	if err != nil {
		return store.RawPage{}, err
	}
	p := store.RawPage{Total: total, Items: make([][]byte, len(items))}
	for i, o := range items {
		if p.Items[i], err = s.col.JSON(o); err != nil {
			return store.RawPage{}, fmt.Errorf("encode offering: %w", err)
		}
	}
	return p, nil
}

func (s *Own) page(ctx context.Context, a auth.Actor, search string, archived bool, offset, limit int) (int, []*Offering, error) {
	if a.Role != auth.Admin && a.Role != auth.Operator {
		_ = s.audit.Record(ctx, s.event(a, audit.Denied, ""))
		return 0, nil, problem.ErrForbidden
	}
	if limit <= 0 {
		limit = 50
	}
	q := store.ListQuery[Offering]{Hidden: archived, Offset: max(offset, 0), Limit: min(limit, 500)}
	if search != "" {
		needle := strings.ToLower(search)
		q.Keep = func(o *Offering) bool { return strings.Contains(strings.ToLower(o.Name+" "+o.Description), needle) }
	}
	total, items := s.col.List(q)
	return total, items, nil
}

// Get returns one own offering.
func (s *Own) Get(ctx context.Context, a auth.Actor, id string) (Offering, error) {
	if a.Role != auth.Admin && a.Role != auth.Operator {
		_ = s.audit.Record(ctx, s.event(a, audit.Denied, id))
		return Offering{}, problem.ErrForbidden
	}
	o, ok := s.col.Get(id)
	if !ok {
		return Offering{}, problem.ErrNotFound
	}
	return o, nil
}

// Create stores and publishes a new offering.
func (s *Own) Create(ctx context.Context, a auth.Actor, o schema.Offering) (Offering, error) {
	if !canEdit(a) {
		_ = s.audit.Record(ctx, s.event(a, audit.Denied, ""))
		return Offering{}, problem.ErrForbidden
	}
	o.ID = ""
	return s.Import(ctx, a, o)
}

// Update replaces an offering's fields and publishes the new version.
func (s *Own) Update(ctx context.Context, a auth.Actor, id string, o schema.Offering) (Offering, error) {
	if !canEdit(a) {
		_ = s.audit.Record(ctx, s.event(a, audit.Denied, id))
		return Offering{}, problem.ErrForbidden
	}
	old, ok := s.col.Get(id)
	if !ok {
		return Offering{}, problem.ErrNotFound
	}
	o.ID = id
	if err := validate(&o); err != nil {
		return Offering{}, err
	}
	rec := Offering{Offering: o, Archived: old.Archived, CreatedAt: old.CreatedAt, UpdatedAt: s.clk.Now().UTC()}
	return rec, s.save(ctx, a, rec, audit.Update)
}

// Archive withdraws an offering from the catalogue and keeps it archived.
func (s *Own) Archive(ctx context.Context, a auth.Actor, id string) (Offering, error) {
	if !canEdit(a) {
		_ = s.audit.Record(ctx, s.event(a, audit.Denied, id))
		return Offering{}, problem.ErrForbidden
	}
	rec, ok := s.col.Get(id)
	if !ok {
		return Offering{}, problem.ErrNotFound
	}
	rec.Archived, rec.UpdatedAt = true, s.clk.Now().UTC()
	return rec, s.save(ctx, a, rec, audit.Archive)
}

// save stores rec, then publishes it (or its withdrawal). The store write
// comes first so a crash between the two leaves a record that Republish
// sends again at the next start.
func (s *Own) save(ctx context.Context, a auth.Actor, rec Offering, act audit.Action) error {
	if err := s.ds.Put(ctx, store.NewKey(unpublishedPrefix+rec.ID), nil); err != nil {
		return fmt.Errorf("mark offering unpublished: %w", err)
	}
	if err := s.col.Put(ctx, rec); err != nil {
		return fmt.Errorf("store offering: %w", err)
	}
	if err := s.audit.Record(ctx, s.event(a, act, rec.ID)); err != nil {
		return fmt.Errorf("audit offering: %w", err)
	}
	if s.pub == nil {
		return nil // marked: published when the node next starts with its federation
	}
	var err error
	if rec.Archived {
		err = s.pub.WithdrawOffering(ctx, rec.ID)
	} else {
		err = s.pub.PublishOffering(ctx, rec.Offering)
	}
	if err != nil {
		return err
	}
	return s.Published(ctx, rec.ID)
}

// Unpublished returns the ids of the own offerings whose last change the
// federation may lack: those marked, or every one in a data directory
// from before the marks (until MarksComplete).
func (s *Own) Unpublished(ctx context.Context) ([]string, error) {
	if ok, err := s.ds.Has(ctx, store.NewKey(marksKey)); err != nil {
		return nil, err
	} else if !ok {
		return s.IDs(), nil
	}
	var ids []string
	err := store.Each(ctx, s.ds, unpublishedPrefix, func(k string, _ []byte) error {
		ids = append(ids, strings.TrimPrefix(k, unpublishedPrefix))
		return nil
	})
	return ids, err
}

// Published clears the mark of an offering the federation has.
func (s *Own) Published(ctx context.Context, id string) error {
	return s.ds.Delete(ctx, store.NewKey(unpublishedPrefix+id))
}

// MarksComplete records that every unpublished offering is marked, after
// the one full pass over an older data directory.
func (s *Own) MarksComplete(ctx context.Context) error {
	return s.ds.Put(ctx, store.NewKey(marksKey), nil)
}

// All returns every own offering, archived included.
func (s *Own) All() []Offering { return s.col.Filter(func(*Offering) bool { return true }) }

// Each calls fn with every own offering, archived included, in id order,
// without copying them: fn must neither keep nor change the offering. It is
// for summaries over all offerings (the coop profile), which would
// otherwise copy thousands of records at every publish.
func (s *Own) Each(fn func(*Offering)) {
	s.col.Filter(func(o *Offering) bool { fn(o); return false })
}

// Count returns how many live own offerings there are.
func (s *Own) Count() int { return len(s.col.Filter(func(o *Offering) bool { return !o.Archived })) }

// Import stores an offering produced by the node itself (demo data, HSDS
// import) on behalf of actor, keeping its id when it has one.
func (s *Own) Import(ctx context.Context, a auth.Actor, o schema.Offering) (Offering, error) {
	if o.ID == "" {
		o.ID = NewUUID()
	}
	if err := validate(&o); err != nil {
		return Offering{}, err
	}
	now := s.clk.Now().UTC()
	rec := Offering{Offering: o, CreatedAt: now, UpdatedAt: now}
	return rec, s.save(ctx, a, rec, audit.Create)
}

// IDs returns the ids of every own offering, archived included.
func (s *Own) IDs() []string {
	var ids []string
	s.Each(func(o *Offering) { ids = append(ids, o.ID) })
	return ids
}

// Lookup returns an own offering by id, for the node's own use (no actor:
// the federation republishing what the admin stored).
func (s *Own) Lookup(id string) (Offering, bool) { return s.col.Get(id) }
