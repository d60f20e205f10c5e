package care

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// Record is a private record type of the registry.
type Record[T any] interface {
	*T
	meta() *Meta
}

// Query selects records for a list.
type Query struct {
	Search   string // case-insensitive substring of the main text fields
	Archived bool   // include archived records
	Offset   int
	Limit    int // default 50, at most 500
}

// Page is one page of a list.
type Page[T any] struct {
	Total int `json:"total"`
	Items []T `json:"items"`
}

// registry is the access rule, validation and storage of one record type.
type registry[T any, P Record[T]] struct {
	kind     string
	col      *store.Collection[T]
	canList  func(a auth.Actor) bool              // may list (then canSee filters)
	seesAll  func(a auth.Actor) bool              // canSee is true for every record
	canSee   func(a auth.Actor, t *T) bool        // may read this record
	canWrite func(a auth.Actor, t *T) bool        // may create (t = new record) or change it
	check    func(t *T) map[string]string         // field errors
	match    func(t *T, q string) bool            // search
	onSave   func(ctx context.Context, old, t *T) // keeps derived links in step
	// mu makes each change of a record (read, change, write back) whole:
	// two at once would write back what the other read, and drop its
	// change (a terminal's move and an edit of it: the move's history step).
	mu sync.Mutex
}

// Service is the private registry.
type Service struct {
	audit *audit.Log
	clk   clock.Clock

	beneficiaries *registry[Beneficiary, *Beneficiary]
	caregivers    *registry[Caregiver, *Caregiver]
	terminals     *registry[Terminal, *Terminal]

	photos  store.Namespace // caregivers' photos, apart from the records (photos.go)
	callers atomic.Pointer[Callers]
}

// Open loads the registry from d.
func Open(ctx context.Context, d store.Namespace, log *audit.Log, clk clock.Clock) (*Service, error) {
	s := &Service{audit: log, clk: clock.Or(clk), photos: d}
	bc, err := store.LoadCollection(ctx, d, "/beneficiary/", func(b *Beneficiary) string { return b.ID })
	if err != nil {
		return nil, err
	}
	cc, err := store.LoadCollection(ctx, d, "/caregiver/", func(c *Caregiver) string { return c.ID })
	if err != nil {
		return nil, err
	}
	tc, err := store.LoadCollection(ctx, d, "/terminal/", func(t *Terminal) string { return t.ID })
	if err != nil {
		return nil, err
	}
	bc.EnableListing(func(b *Beneficiary) bool { return b.Archived })
	cc.EnableListing(func(c *Caregiver) bool { return c.Archived })
	tc.EnableListing(func(t *Terminal) bool { return t.Archived })
	if err := migrateTerminals(ctx, tc, s.clk.Now().UTC()); err != nil {
		return nil, err
	}
	s.beneficiaries = &registry[Beneficiary, *Beneficiary]{
		kind: "beneficiary", col: bc,
		canList: func(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Caregiver },
		seesAll: func(a auth.Actor) bool { return a.Role == auth.Admin },
		canSee: func(a auth.Actor, b *Beneficiary) bool {
			return a.Role == auth.Admin || (a.Role == auth.Caregiver && a.CaregiverID != "" && slices.Contains(b.Caregivers, a.CaregiverID))
		},
		canWrite: func(a auth.Actor, _ *Beneficiary) bool { return a.Role == auth.Admin },
		check:    s.checkBeneficiary,
		match: func(b *Beneficiary, q string) bool {
			return contains(q, b.Name, b.Address, b.Notes)
		},
	}
	s.caregivers = &registry[Caregiver, *Caregiver]{
		kind: "caregiver", col: cc,
		canList: func(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Caregiver },
		seesAll: func(a auth.Actor) bool { return a.Role == auth.Admin },
		canSee: func(a auth.Actor, c *Caregiver) bool {
			return a.Role == auth.Admin || (a.CaregiverID != "" && a.CaregiverID == c.ID)
		},
		canWrite: func(a auth.Actor, _ *Caregiver) bool { return a.Role == auth.Admin },
		check:    checkCaregiver,
		match:    func(c *Caregiver, q string) bool { return contains(q, c.Name, c.Email, c.Availability) },
		onSave: func(_ context.Context, old, c *Caregiver) {
			c.Photo = "" // only SetCaregiverPhoto sets it
			if old != nil {
				c.Photo = old.Photo
			}
		},
	}
	s.terminals = &registry[Terminal, *Terminal]{
		kind: "terminal", col: tc,
		canList:  func(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Refurbisher },
		seesAll:  func(a auth.Actor) bool { return a.Role == auth.Admin || a.Role == auth.Refurbisher },
		canSee:   func(a auth.Actor, _ *Terminal) bool { return a.Role == auth.Admin || a.Role == auth.Refurbisher },
		canWrite: func(a auth.Actor, _ *Terminal) bool { return a.Role == auth.Admin || a.Role == auth.Refurbisher },
		check:    s.checkTerminal,
		match:    func(t *Terminal, q string) bool { return contains(q, t.Label, t.Model, t.CPU, t.Notes) },
	}
	return s, nil
}

// NewID returns a random record id.
func NewID() string { return strings.ToLower(rand.Text()) }

func (r *registry[T, P]) event(a auth.Actor, act audit.Action, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: r.kind, Object: id, Remote: a.Remote, Detail: detail}
}

// deny audits a refused access and returns the 403.
func (r *registry[T, P]) deny(ctx context.Context, log *audit.Log, a auth.Actor, id, what string) error {
	_ = log.Record(ctx, r.event(a, audit.Denied, id, what))
	return problem.ErrForbidden
}

// missing answers the request for a record that does not exist as one
// for a record the actor may not see or change would be answered: 403,
// audited, unless the actor sees (and, to write, may change) every record
// of the kind and is told 404. So the answer never tells whether an id
// exists.
func (r *registry[T, P]) missing(ctx context.Context, log *audit.Log, a auth.Actor, id, what string, write bool) error {
	var zero T
	if !r.seesAll(a) || write && !r.canWrite(a, &zero) {
		return r.deny(ctx, log, a, id, what)
	}
	return problem.ErrNotFound
}

// page checks the actor may list, selects the page and audits the read.
func (r *registry[T, P]) page(ctx context.Context, log *audit.Log, a auth.Actor, q Query) (int, []*T, error) {
	if !r.canList(a) {
		return 0, nil, r.deny(ctx, log, a, "", "list")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	lq := store.ListQuery[T]{Hidden: q.Archived, Offset: max(q.Offset, 0), Limit: min(q.Limit, 500)}
	if !r.seesAll(a) || q.Search != "" {
		lq.Keep = func(t *T) bool { return r.canSee(a, t) && r.match(t, q.Search) }
	}
	total, items := r.col.List(lq)
	ids := make([]string, len(items))
	for i, t := range items {
		ids[i] = P(t).meta().ID
	}
	log.Note(r.event(a, audit.List, "", strings.Join(ids, ",")))
	return total, items, nil
}

func (r *registry[T, P]) list(ctx context.Context, log *audit.Log, a auth.Actor, q Query) (Page[T], error) {
	total, items, err := r.page(ctx, log, a, q)
	if err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Total: total, Items: make([]T, len(items))}
	for i, t := range items {
		p.Items[i] = *t
	}
	return p, nil
}

// listJSON is list with the records' kept JSON encodings: the API's
// answer, without copying or encoding the records again.
func (r *registry[T, P]) listJSON(ctx context.Context, log *audit.Log, a auth.Actor, q Query) (store.RawPage, error) {
	total, items, err := r.page(ctx, log, a, q)
	if err != nil {
		return store.RawPage{}, err
	}
	p := store.RawPage{Total: total, Items: make([][]byte, len(items))}
	for i, t := range items {
		if p.Items[i], err = r.col.JSON(t); err != nil {
			return store.RawPage{}, fmt.Errorf("encode %s: %w", r.kind, err)
		}
	}
	return p, nil
}

func (r *registry[T, P]) get(ctx context.Context, log *audit.Log, a auth.Actor, id string) (T, error) {
	t, ok := r.col.Get(id)
	if !ok {
		var zero T
		return zero, r.missing(ctx, log, a, id, "read", false)
	}
	if !r.canSee(a, &t) {
		var zero T
		return zero, r.deny(ctx, log, a, id, "read")
	}
	log.Note(r.event(a, audit.Read, id, ""))
	return t, nil
}

func (r *registry[T, P]) create(ctx context.Context, log *audit.Log, a auth.Actor, t T, now time.Time) (T, error) {
	var zero T
	if !r.canWrite(a, &t) {
		return zero, r.deny(ctx, log, a, "", "create")
	}
	if err := problem.Invalid(r.check(&t)); err != nil {
		return zero, err
	}
	m := P(&t).meta()
	*m = Meta{ID: NewID(), CreatedAt: now, UpdatedAt: now}
	if r.onSave != nil {
		r.onSave(ctx, nil, &t)
	}
	if err := r.col.Put(ctx, t); err != nil {
		return zero, fmt.Errorf("store %s: %w", r.kind, err)
	}
	if err := log.Record(ctx, r.event(a, audit.Create, m.ID, "")); err != nil {
		return zero, fmt.Errorf("audit %s: %w", r.kind, err)
	}
	return t, nil
}

func (r *registry[T, P]) update(ctx context.Context, log *audit.Log, a auth.Actor, id string, t T, archive bool, now time.Time) (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updateLocked(ctx, log, a, id, t, archive, now)
}

// updateLocked is update for a caller holding r.mu.
func (r *registry[T, P]) updateLocked(ctx context.Context, log *audit.Log, a auth.Actor, id string, t T, archive bool, now time.Time) (T, error) {
	var zero T
	old, ok := r.col.Get(id)
	if !ok {
		return zero, r.missing(ctx, log, a, id, "update", true)
	}
	if !r.canSee(a, &old) || !r.canWrite(a, &old) {
		return zero, r.deny(ctx, log, a, id, "update")
	}
	act := audit.Update
	if archive {
		t = old
		P(&t).meta().Archived = true
		act = audit.Archive
	} else if err := problem.Invalid(r.check(&t)); err != nil {
		return zero, err
	}
	m, om := P(&t).meta(), P(&old).meta()
	*m = Meta{ID: om.ID, Archived: m.Archived, CreatedAt: om.CreatedAt, UpdatedAt: now}
	if r.onSave != nil {
		r.onSave(ctx, &old, &t)
	}
	if err := r.col.Put(ctx, t); err != nil {
		return zero, fmt.Errorf("store %s: %w", r.kind, err)
	}
	if err := log.Record(ctx, r.event(a, act, id, "")); err != nil {
		return zero, fmt.Errorf("audit %s: %w", r.kind, err)
	}
	return t, nil
}

// Beneficiaries.

func (s *Service) ListBeneficiaries(ctx context.Context, a auth.Actor, q Query) (Page[Beneficiary], error) {
	return s.beneficiaries.list(ctx, s.audit, a, q)
}
func (s *Service) ListBeneficiariesJSON(ctx context.Context, a auth.Actor, q Query) (store.RawPage, error) {
	return s.beneficiaries.listJSON(ctx, s.audit, a, q)
}
func (s *Service) Beneficiary(ctx context.Context, a auth.Actor, id string) (Beneficiary, error) {
	return s.beneficiaries.get(ctx, s.audit, a, id)
}
func (s *Service) CreateBeneficiary(ctx context.Context, a auth.Actor, b Beneficiary) (Beneficiary, error) {
	return s.beneficiaries.create(ctx, s.audit, a, b, s.clk.Now().UTC())
}
func (s *Service) UpdateBeneficiary(ctx context.Context, a auth.Actor, id string, b Beneficiary) (Beneficiary, error) {
	return s.beneficiaries.update(ctx, s.audit, a, id, b, false, s.clk.Now().UTC())
}
func (s *Service) ArchiveBeneficiary(ctx context.Context, a auth.Actor, id string) (Beneficiary, error) {
	return s.beneficiaries.update(ctx, s.audit, a, id, Beneficiary{}, true, s.clk.Now().UTC())
}

// Caregivers.

func (s *Service) ListCaregivers(ctx context.Context, a auth.Actor, q Query) (Page[Caregiver], error) {
	return s.caregivers.list(ctx, s.audit, a, q)
}
func (s *Service) ListCaregiversJSON(ctx context.Context, a auth.Actor, q Query) (store.RawPage, error) {
	return s.caregivers.listJSON(ctx, s.audit, a, q)
}
func (s *Service) Caregiver(ctx context.Context, a auth.Actor, id string) (Caregiver, error) {
	return s.caregivers.get(ctx, s.audit, a, id)
}
func (s *Service) CreateCaregiver(ctx context.Context, a auth.Actor, c Caregiver) (Caregiver, error) {
	return s.caregivers.create(ctx, s.audit, a, c, s.clk.Now().UTC())
}
func (s *Service) UpdateCaregiver(ctx context.Context, a auth.Actor, id string, c Caregiver) (Caregiver, error) {
	return s.caregivers.update(ctx, s.audit, a, id, c, false, s.clk.Now().UTC())
}
func (s *Service) ArchiveCaregiver(ctx context.Context, a auth.Actor, id string) (Caregiver, error) {
	return s.caregivers.update(ctx, s.audit, a, id, Caregiver{}, true, s.clk.Now().UTC())
}

// Terminals.

func (s *Service) ListTerminals(ctx context.Context, a auth.Actor, q Query) (Page[Terminal], error) {
	return s.terminals.list(ctx, s.audit, a, q)
}
func (s *Service) ListTerminalsJSON(ctx context.Context, a auth.Actor, q Query) (store.RawPage, error) {
	return s.terminals.listJSON(ctx, s.audit, a, q)
}
func (s *Service) Terminal(ctx context.Context, a auth.Actor, id string) (Terminal, error) {
	return s.terminals.get(ctx, s.audit, a, id)
}
func (s *Service) ArchiveTerminal(ctx context.Context, a auth.Actor, id string) (Terminal, error) {
	return s.terminals.update(ctx, s.audit, a, id, Terminal{}, true, s.clk.Now().UTC())
}

func addWorker(ws []string, a auth.Actor) []string {
	if a.Role == auth.Refurbisher && !slices.Contains(ws, a.Username) {
		ws = append(ws, a.Username)
	}
	return ws
}

// Counts returns how many live records of each kind the node holds.
func (s *Service) Counts() map[string]int {
	return map[string]int{
		"beneficiaries": s.beneficiaries.col.Count(),
		"caregivers":    s.caregivers.col.Count(),
		"terminals":     s.terminals.col.Count(),
	}
}

// CaregiverByUsername finds the caregiver record linked to an account.
func (s *Service) CaregiverByUsername(username string) (Caregiver, bool) {
	cs := s.caregivers.col.Filter(func(c *Caregiver) bool { return c.Username == username && !c.Archived })
	if len(cs) == 0 {
		return Caregiver{}, false
	}
	return cs[0], true
}

// consentSince is the earliest consent date a record may hold: a consent
// is given for this service, so a date before 1970 (0000-01-01 included)
// is a typing error. The latest is tomorrow, for time zones.
var consentSince = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Service) checkBeneficiary(b *Beneficiary) map[string]string {
	c := checker{}
	c.text("name", b.Name, true, 200)
	c.text("address", b.Address, true, 300)
	c.municipality("municipality", b.Municipality, true)
	c.year("birth_year", b.BirthYear, 1900, s.clk.Now().Year())
	c.phone("phone", b.Phone)
	if b.Gender != "" {
		c.oneOf("gender", b.Gender, Genders)
	}
	c.lines("notes", b.Notes, 4000)
	for _, f := range b.Fragility {
		c.oneOf("fragility", f, Fragilities)
	}
	if len(b.Contacts) > 20 {
		c["contacts"] = "too_many"
	}
	for i, ct := range b.Contacts {
		p := fmt.Sprintf("contacts.%d.", i)
		c.oneOf(p+"kind", ct.Kind, ContactKinds)
		c.text(p+"name", ct.Name, true, 200)
		c.text(p+"relation", ct.Relation, false, 100)
		c.phone(p+"phone", ct.Phone)
		c.email(p+"email", ct.Email)
		if ct.Phone == "" && ct.Email == "" {
			c[p+"phone"] = "phone_or_email"
		}
		if ct.Lang != "" {
			c.oneOf(p+"lang", ct.Lang, ContactLangs)
		}
	}
	c.date("consent.date", b.Consent.Date, consentSince, s.clk.Now().AddDate(0, 0, 1))
	c.text("consent.collected_by", b.Consent.CollectedBy, false, 200)
	c.lines("consent.scope", b.Consent.Scope, 1000)
	if b.Consent.Given && b.Consent.Date == "" {
		c["consent.date"] = "required"
	}
	if len(b.Caregivers) > 50 {
		c["caregivers"] = "too_many"
	}
	for _, id := range b.Caregivers {
		if cg, ok := s.caregivers.col.Get(id); !ok || cg.Archived {
			c["caregivers"] = "unknown_caregiver"
		}
	}
	b.Fragility = nonNil(b.Fragility)
	b.Contacts = nonNil(b.Contacts)
	b.Caregivers = nonNil(b.Caregivers)
	return c
}

func checkCaregiver(cg *Caregiver) map[string]string {
	c := checker{}
	c.text("name", cg.Name, true, 200)
	c.phone("phone", cg.Phone)
	c.email("email", cg.Email)
	c.languages("languages", cg.Languages)
	c.lines("availability", cg.Availability, 500)
	c.text("username", cg.Username, false, 32)
	c.lines("notes", cg.Notes, 4000)
	cg.Languages = nonNil(cg.Languages)
	return c
}

func (s *Service) checkTerminal(t *Terminal) map[string]string {
	c := checker{}
	c.text("label", t.Label, true, 64)
	c.text("model", t.Model, true, 200)
	c.year("year", t.Year, 1990, s.clk.Now().Year())
	c.text("cpu", t.CPU, false, 200)
	if t.RAMMB < 0 || t.RAMMB > 1<<20 {
		c["ram_mb"] = "out_of_range"
	}
	if t.DiskGB < 0 || t.DiskGB > 1<<20 {
		c["disk_gb"] = "out_of_range"
	}
	c.oneOf("state", t.State, TerminalStates)
	c.lines("notes", t.Notes, 4000)
	if t.Beneficiary != "" {
		if b, ok := s.beneficiaries.col.Get(t.Beneficiary); !ok || b.Archived {
			c["beneficiary"] = "unknown_beneficiary"
		}
	}
	if (t.State == "delivered" || t.State == "in_service") && t.Beneficiary == "" {
		c["beneficiary"] = "required"
	}
	t.Workers = nonNil(t.Workers)
	t.History = nonNil(t.History)
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
