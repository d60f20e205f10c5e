package workshop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/photo"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Terminal is what the workshop needs of a terminal of the registry.
type Terminal struct {
	ID, Label, Model, State, Beneficiary string
	Archived                             bool
	CreatedAt                            time.Time
	History                              []StateStep
}

// StateStep is one state of a terminal's history.
type StateStep struct {
	State string
	At    time.Time
	By    string
}

// Since is when the terminal entered its current state.
func (t Terminal) Since() time.Time {
	if n := len(t.History); n > 0 {
		return t.History[n-1].At
	}
	return t.CreatedAt
}

// Registry is the private registry's terminals (node/care, adapted by
// the wiring). Its methods check the actor's role and audit.
type Registry interface {
	Terminal(ctx context.Context, a auth.Actor, id string) (Terminal, error)
	Terminals(ctx context.Context, a auth.Actor) ([]Terminal, error)
	Create(ctx context.Context, a auth.Actor, label, model string) (Terminal, error)
	// Move changes the state from → to (409 if it is no longer from);
	// with setBeneficiary it sets the beneficiary too.
	Move(ctx context.Context, a auth.Actor, id, from, to, beneficiary string, setBeneficiary bool) (Terminal, error)
}

// Device is the workshop's record of a terminal: its intake, the probe's
// report and the checklist of every step. Keyed by the terminal's id.
type Device struct {
	Terminal string    `json:"terminal"`
	Donor    string    `json:"donor,omitempty"`
	Date     string    `json:"date,omitempty"` // day of the donation
	Model    string    `json:"model,omitempty"`
	Serial   string    `json:"serial,omitempty"`
	Photo    string    `json:"photo,omitempty"` // data: URL of a JPEG or PNG
	IntakeBy string    `json:"intake_by,omitempty"`
	IntakeAt time.Time `json:"intake_at,omitzero"`
	Assigned string    `json:"assigned,omitempty"` // the worker who took it
	Report   *Report   `json:"report,omitempty"`
	ReportAt time.Time `json:"report_at,omitzero"`
	Steps    []Step    `json:"steps"`
}

// Clone is a copy of d that shares no step and no checklist with it
// (store.Cloner): a move appends to a copy's steps, and the views handed
// out must not reach the stored record's steps, which readers of the
// collection read without the service's lock. Report is replaced whole, never changed in place, so it
// is shared.
func (d *Device) Clone() Device {
	c := *d
	c.Steps = slices.Clone(d.Steps)
	for i := range c.Steps {
		c.Steps[i].Checklist = maps.Clone(c.Steps[i].Checklist)
	}
	return c
}

// Step is one transition with the checklist it recorded.
type Step struct {
	From      string            `json:"from"`
	To        string            `json:"to"`
	Checklist map[string]string `json:"checklist"`
	By        string            `json:"by"`
	At        time.Time         `json:"at"`
}

// probeCode is a one-time code for the probe, stored by its hash only.
type probeCode struct {
	Hash     string    `json:"hash"`
	Terminal string    `json:"terminal"`
	Expires  time.Time `json:"expires"`
	Used     bool      `json:"used"`
}

// Config tunes the workshop; zero values are the defaults.
type Config struct {
	CodeTTL   time.Duration // how long a probe code works (default 72 h)
	ProbeRate int           // probe requests per minute per client address (default 10)
}

// Service is the workshop.
type Service struct {
	reg   Registry
	audit *audit.Log
	clk   clock.Clock
	cfg   Config

	mu      sync.Mutex // one transition, intake or code use at a time
	devices *store.Collection[Device]
	codes   *store.Collection[probeCode]
	work    *store.Collection[Work]
	limit   *limiter

	fed Federation // set once by SetFederation, read under pub.mu
	pub publishing
}

// Open loads the workshop from d.
func Open(ctx context.Context, d store.Namespace, reg Registry, log *audit.Log, clk clock.Clock, cfg Config) (*Service, error) {
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 72 * time.Hour
	}
	if cfg.ProbeRate <= 0 {
		cfg.ProbeRate = 10
	}
	s := &Service{reg: reg, audit: log, clk: clock.Or(clk), cfg: cfg}
	var err error
	if s.devices, err = store.LoadCollection(ctx, d, "/device/", func(x *Device) string { return x.Terminal }); err != nil {
		return nil, err
	}
	if s.codes, err = store.LoadCollection(ctx, d, "/probecode/", func(x *probeCode) string { return x.Hash }); err != nil {
		return nil, err
	}
	if s.work, err = store.LoadCollection(ctx, d, "/work/", func(x *Work) string { return x.ID }); err != nil {
		return nil, err
	}
	s.limit = newLimiter(s.clk, cfg.ProbeRate, time.Minute)
	return s, nil
}

var workers = []auth.Role{auth.Admin, auth.Refurbisher}

func (s *Service) allow(ctx context.Context, a auth.Actor, kind, id, what string, roles ...auth.Role) error {
	if slices.Contains(roles, a.Role) {
		return nil
	}
	_ = s.audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: kind, Object: id, Remote: a.Remote, Detail: what})
	return problem.ErrForbidden
}

func (s *Service) record(ctx context.Context, a auth.Actor, act audit.Action, kind, id, detail string) error {
	ev := audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: kind, Object: id, Remote: a.Remote, Detail: detail}
	if act == audit.Read || act == audit.List {
		s.audit.Note(ev)
		return nil
	}
	if err := s.audit.Record(ctx, ev); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// Intake is a donated device as the workshop takes it in.
type Intake struct {
	Label  string `json:"label,omitempty"` // asset tag; default the serial
	Donor  string `json:"donor"`
	Date   string `json:"date"`
	Model  string `json:"model"`
	Serial string `json:"serial"`
	Photo  string `json:"photo,omitempty"`
}

// Taken is the answer to an intake: the terminal and its probe code,
// shown once.
type Taken struct {
	ID      string    `json:"id"`
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// MaxPhoto is the largest photo accepted, as a data: URL.
const MaxPhoto = 400 << 10

func (s *Service) checkIntake(in *Intake) map[string]string {
	bad := map[string]string{}
	text := func(k, v string, required bool, max int) {
		if required && strings.TrimSpace(v) == "" {
			bad[k] = "required"
		} else if c := schema.TextFault(v, max, false); c != "" {
			bad[k] = c
		}
	}
	text("donor", in.Donor, true, 200)
	text("model", in.Model, true, 200)
	text("serial", in.Serial, true, 100)
	text("label", in.Label, false, 64)
	if c := checkDate(in.Date, s.clk.Now()); c != "" {
		bad["date"] = c
	}
	if in.Photo != "" && !goodPhoto(in.Photo) {
		bad["photo"] = "bad_photo"
	}
	return bad
}

// goodPhoto says whether p is a data: URL of a JPEG or PNG no larger than
// MaxPhoto, whose bytes are what its type says (node/photo).
func goodPhoto(p string) bool { return photo.FromDataURL(p, MaxPhoto) == nil }

// TakeIn registers a donated device: a terminal in "recovered", its
// workshop record, and a probe code for the worker.
func (s *Service) TakeIn(ctx context.Context, a auth.Actor, in Intake) (Taken, error) {
	if err := s.allow(ctx, a, "terminal_intake", "", "create", workers...); err != nil {
		return Taken{}, err
	}
	defer s.changed(ctx)
	in.Donor, in.Model, in.Serial, in.Label = strings.TrimSpace(in.Donor), strings.TrimSpace(in.Model), strings.TrimSpace(in.Serial), strings.TrimSpace(in.Label)
	if err := problem.Invalid(s.checkIntake(&in)); err != nil {
		return Taken{}, err
	}
	if in.Label == "" {
		in.Label = in.Serial
	}
	t, err := s.reg.Create(ctx, a, in.Label, in.Model)
	if err != nil {
		return Taken{}, err
	}
	d := Device{Terminal: t.ID, Donor: in.Donor, Date: in.Date, Model: in.Model, Serial: in.Serial, Photo: in.Photo,
		IntakeBy: a.Username, IntakeAt: s.clk.Now().UTC(), Assigned: a.Username, Steps: []Step{}}
	if err := s.devices.Put(ctx, d); err != nil {
		return Taken{}, fmt.Errorf("store device: %w", err)
	}
	if err := s.record(ctx, a, audit.Create, "terminal_intake", t.ID, ""); err != nil {
		return Taken{}, err
	}
	return s.newCode(ctx, a, t.ID)
}

// NewCode replaces a terminal's probe code (the printed one was lost or
// expired); the old ones stop working.
func (s *Service) NewCode(ctx context.Context, a auth.Actor, id string) (Taken, error) {
	if err := s.allow(ctx, a, "probe_code", id, "create", workers...); err != nil {
		return Taken{}, err
	}
	if _, err := s.reg.Terminal(ctx, a, id); err != nil {
		return Taken{}, err
	}
	return s.newCode(ctx, a, id)
}

func (s *Service) newCode(ctx context.Context, a auth.Actor, id string) (Taken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.codes.Filter(func(c *probeCode) bool { return c.Terminal == id && !c.Used }) {
		c.Used = true
		if err := s.codes.Put(ctx, c); err != nil {
			return Taken{}, fmt.Errorf("store probe code: %w", err)
		}
	}
	// 12 characters of base32 (60 bits): typed once by the worker,
	// guessed never with the rate limit and the expiry.
	code := rand.Text()[:12]
	c := probeCode{Hash: hashCode(code), Terminal: id, Expires: s.clk.Now().UTC().Add(s.cfg.CodeTTL)}
	if err := s.codes.Put(ctx, c); err != nil {
		return Taken{}, fmt.Errorf("store probe code: %w", err)
	}
	if err := s.record(ctx, a, audit.Create, "probe_code", id, ""); err != nil {
		return Taken{}, err
	}
	return Taken{ID: id, Code: code, Expires: c.Expires}, nil
}

// NormalizeCode is a code as typed: case, spaces and dashes do not count.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

func hashCode(code string) string {
	h := sha256.Sum256([]byte("difronte probe code\x00" + NormalizeCode(code)))
	return hex.EncodeToString(h[:])
}

// ErrBadCode is a probe code that is unknown, used or expired: one answer
// for the three, so the answer tells a guesser nothing.
var ErrBadCode = problem.New(http.StatusUnauthorized, "bad_probe_code", "the probe code is unknown, used or expired")

// ErrRateLimited is a client address that sent too many probe requests.
var ErrRateLimited = problem.New(http.StatusTooManyRequests, "rate_limited", "too many probe requests: wait a minute")

// probeActor is who attaches a report in the audit log.
var probeActor = auth.Actor{Username: "system:probe", Role: auth.Refurbisher}

// AttachReport is the probe's request: the code is the credential, used
// once. remote is the client's address, for the rate limit.
func (s *Service) AttachReport(ctx context.Context, remote, code string, r Report) (string, error) {
	if !s.limit.allow(remote) {
		return "", ErrRateLimited
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes.Get(hashCode(code))
	if !ok || c.Used || !s.clk.Now().Before(c.Expires) || len(code) > 64 {
		return "", ErrBadCode
	}
	c.Used = true
	if err := s.codes.Put(ctx, c); err != nil {
		return "", fmt.Errorf("store probe code: %w", err)
	}
	d := s.device(c.Terminal)
	d.Report, d.ReportAt = &r, s.clk.Now().UTC()
	if err := s.devices.Put(ctx, d); err != nil {
		return "", fmt.Errorf("store report: %w", err)
	}
	a := probeActor
	a.Remote = remote
	return c.Terminal, s.record(ctx, a, audit.Update, "terminal_report", c.Terminal, "")
}

// device is the workshop record of a terminal, a new one for a terminal
// registered before the workshop.
func (s *Service) device(id string) Device {
	d, ok := s.devices.Get(id)
	if !ok {
		d = Device{Terminal: id, Steps: []Step{}}
	}
	return d
}
