package escalation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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

// Config configures the escalation service. Zero values are production
// defaults, except Store, Audit and Dir, which are required.
type Config struct {
	Store  store.Namespace
	Audit  *audit.Log
	Dir    Directory
	Notify Notifier
	Clock  clock.Clock // default: the real clock
	Logger *slog.Logger

	Schedules Schedules // nil: no check-in windows
	Presence  Presence  // nil: the terminal is never known offline
	Grants    Grants    // nil: no caregiver of another node may report
	Offers    Offers    // nil: no service proposals
	CallLog   CallLog   // nil: only calls reported through Record count

	// BaseURL is the node's public address, for acknowledgement links.
	BaseURL string
	// CoopPhone is the number alerts tell people to call back.
	CoopPhone string

	// Text renders a message of the catalogues in a language, with args
	// as name/value pairs (node wires web's catalogues); nil: the key.
	Text func(lang, key string, args ...any) string
	// Lang is an account's language ("": DefaultLang).
	Lang func(username string) string
	// DefaultLang is the language of e-mail and webhooks; default "it".
	DefaultLang string

	// Defaults of a beneficiary without Settings.
	RepeatAfter   time.Duration // default 10 min
	Repeats       int           // default 2
	EscalateAfter time.Duration // default 15 min
	Retries       int           // unanswered calls that make a window missed; default 3
	// Grace is how long after a slot's end a check-in still counts; default 30 min.
	Grace time.Duration
	// Horizon is how far ahead windows are planned; default 24 h.
	Horizon time.Duration
	// AckTTL is how long an acknowledgement link works; default 7 days.
	AckTTL time.Duration
}

// Service holds the escalation state of one node.
type Service struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // serialises changes across collections
	outcomes *store.Collection[Outcome]
	cases    *store.Collection[Case]
	alerts   *store.Collection[Alert]
	windows  *store.Collection[Window]
	settings *store.Collection[Settings]
	calls    *store.Collection[CallSeen]
	keys     *store.Collection[linkKey]
	meta     store.Namespace

	linkSecret []byte  // keys the opaque ids of chain links (links.go)
	carrier    Carrier // to other nodes; nil without federation

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool
}

// CallSeen is a call reported by node/calls, kept so that outcomes can only
// be recorded for calls that happened.
type CallSeen struct {
	ID          string    `json:"id"`
	Beneficiary string    `json:"beneficiary"`
	Caregiver   string    `json:"caregiver"`
	At          time.Time `json:"at"`
	Answered    bool      `json:"answered"`
	// Node is set for a call a local caregiver placed to another coop's
	// beneficiary: the outcome goes there. Name is the display name the
	// grant carries, Reported that the outcome was accepted there.
	Node     string `json:"node,omitempty"`
	Name     string `json:"name,omitempty"`
	Reported bool   `json:"reported,omitempty"`
}

// Open loads the escalation state. It starts nothing: call Start.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Audit == nil || cfg.Dir == nil {
		return nil, errors.New("escalation: store, audit and directory are required")
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.RepeatAfter, 10*time.Minute)
	def(&cfg.EscalateAfter, 15*time.Minute)
	def(&cfg.Grace, 30*time.Minute)
	def(&cfg.Horizon, 24*time.Hour)
	def(&cfg.AckTTL, 7*24*time.Hour)
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = "it"
	}
	if cfg.Repeats == 0 {
		cfg.Repeats = 2
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "escalation"), meta: cfg.Store,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l := store.NewLoader(ctx, cfg.Store)
	store.Load(l, &s.outcomes, "outcomes", func(x *Outcome) string { return x.ID })
	store.Load(l, &s.cases, "cases", func(x *Case) string { return x.ID })
	store.Load(l, &s.alerts, "alerts", func(x *Alert) string { return x.ID })
	store.Load(l, &s.windows, "windows", func(x *Window) string { return x.ID })
	store.Load(l, &s.settings, "settings", func(x *Settings) string { return x.Beneficiary })
	store.Load(l, &s.calls, "calls", func(x *CallSeen) string { return x.ID })
	store.Load(l, &s.keys, "keys", func(x *linkKey) string { return x.ID })
	if l.Err != nil {
		return nil, l.Err
	}
	if err := s.loadLinkKey(ctx); err != nil {
		return nil, err
	}
	if err := s.migrateLinks(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func newID() string { return strings.ToLower(rand.Text()) }

func newToken() (string, string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte("difronte/escalation/" + t))
	return hex.EncodeToString(h[:])
}

func (s *Service) event(a auth.Actor, act audit.Action, kind, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: kind, Object: id, Remote: a.Remote, Detail: detail}
}

// nodeActor is the node itself, acting on its timers.
var nodeActor = auth.Actor{Username: "node", Role: auth.System}

func (s *Service) deny(ctx context.Context, a auth.Actor, kind, id, why string) error {
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, kind, id, why))
	return problem.ErrForbidden
}

// canSee: admins see every case; caregivers those of their beneficiaries.
func (s *Service) canSee(ctx context.Context, a auth.Actor, ben string) bool {
	if a.Role == auth.Admin {
		return true
	}
	if a.Role != auth.Caregiver || a.CaregiverID == "" {
		return false
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, ben)
	return ok && slices.Contains(p.Caregivers, a.CaregiverID)
}

// ErrDuplicate is returned for a second outcome of the same call under a
// different idempotency key.
var ErrDuplicate = &problem.Error{Status: http.StatusConflict, Code: "duplicate", Message: "an outcome for this call is already recorded"}

// ErrNoCall is returned for an outcome of a call that did not happen.
var ErrNoCall = &problem.Error{Status: http.StatusUnprocessableEntity, Code: "no_call", Message: "no such call with this beneficiary and caregiver"}

// RecordOutcome records what a local caregiver reports after a call. The
// same idempotency key returns the first outcome again, changing nothing.
func (s *Service) RecordOutcome(ctx context.Context, a auth.Actor, o Outcome) (Outcome, error) {
	if a.Role == auth.Admin {
		// The admin records for the caregiver who placed the call (she
		// phoned the office, or has no account).
		o.Caregiver, o.By = "", a.Username
		return s.recordOutcome(ctx, a, o)
	}
	if a.Role != auth.Caregiver || a.CaregiverID == "" {
		return Outcome{}, s.deny(ctx, a, "outcome", o.Beneficiary, "record")
	}
	if !s.canSee(ctx, a, o.Beneficiary) {
		return Outcome{}, s.deny(ctx, a, "outcome", o.Beneficiary, "not assigned")
	}
	o.Caregiver = a.CaregiverID
	o.By = a.Username
	return s.recordOutcome(ctx, a, o)
}

// RecordRemoteOutcome records an outcome sent by a caregiver of another
// node, who must hold a call grant for the beneficiary.
func (s *Service) RecordRemoteOutcome(ctx context.Context, peer string, o Outcome) (Outcome, error) {
	who := peer + "/" + o.Caregiver
	a := auth.Actor{Username: who, Role: "remote", Remote: peer}
	if o.Caregiver == "" || s.cfg.Grants == nil || !s.cfg.Grants.Granted(ctx, peer, o.Caregiver, o.Beneficiary) {
		return Outcome{}, s.deny(ctx, a, "outcome", o.Beneficiary, "no grant")
	}
	o.Caregiver = who
	o.By = who
	return s.recordOutcome(ctx, a, o)
}

func (s *Service) recordOutcome(ctx context.Context, a auth.Actor, o Outcome) (Outcome, error) {
	if err := problem.Invalid(o.Check()); err != nil {
		return Outcome{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Idempotency: the key is scoped to who sends it.
	if prev := s.outcomes.Filter(func(x *Outcome) bool { return x.Key == o.Key && x.By == o.By }); len(prev) > 0 {
		return prev[0], nil
	}
	c, ok := s.calls.Get(o.Call)
	if !ok && s.cfg.CallLog != nil {
		now := s.now()
		for _, x := range s.cfg.CallLog.Calls(ctx, o.Beneficiary, now.Add(-7*24*time.Hour), now.Add(time.Minute)) {
			if x.ID == o.Call {
				c, ok = x, true
			}
		}
	}
	if ok && a.Role == auth.Admin {
		o.Caregiver = c.Caregiver
	}
	if !ok || c.Node != "" || c.Beneficiary != o.Beneficiary || c.Caregiver != o.Caregiver || !c.Answered {
		_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "outcome", o.Call, "no call"))
		return Outcome{}, ErrNoCall
	}
	if prev := s.outcomes.Filter(func(x *Outcome) bool { return x.Call == o.Call }); len(prev) > 0 {
		return Outcome{}, ErrDuplicate
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, o.Beneficiary)
	if !ok {
		return Outcome{}, problem.ErrNotFound
	}
	now := s.now()
	o.ID, o.At = newID(), now
	if o.Status == StatusProblem {
		c := Case{ID: newID(), Beneficiary: o.Beneficiary, Municipality: p.Municipality, Caregiver: o.Caregiver,
			Source: "outcome", Kind: o.Kind, Urgency: o.Urgency, Outcome: o.ID, State: CaseOpen, OpenedAt: now,
			Actions: []Action{}, Timeline: []Step{{At: now, By: o.By, What: "opened", Detail: o.Kind + "/" + o.Urgency}}}
		for _, k := range o.Actions {
			c.Actions = append(c.Actions, Action{Kind: k, State: ActionPending})
		}
		o.Case = c.ID
		if err := s.outcomes.Put(ctx, o); err != nil {
			return Outcome{}, fmt.Errorf("store outcome: %w", err)
		}
		if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "outcome", o.ID, o.Status)); err != nil {
			return Outcome{}, fmt.Errorf("audit outcome: %w", err)
		}
		if err := s.openCase(ctx, a, &c, p); err != nil {
			return Outcome{}, err
		}
		return o, nil
	}
	if err := s.outcomes.Put(ctx, o); err != nil {
		return Outcome{}, fmt.Errorf("store outcome: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "outcome", o.ID, o.Status)); err != nil {
		return Outcome{}, fmt.Errorf("audit outcome: %w", err)
	}
	return o, nil
}

// openCase stores a new case and starts its actions. Caller holds s.mu.
func (s *Service) openCase(ctx context.Context, a auth.Actor, c *Case, p Person) error {
	if err := s.cases.Put(ctx, *c); err != nil {
		return fmt.Errorf("store case: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "case", c.ID, c.Source+" "+c.Kind)); err != nil {
		return fmt.Errorf("audit case: %w", err)
	}
	for i := range c.Actions {
		if err := s.startAction(ctx, c, i, p); err != nil {
			return err
		}
	}
	return s.saveCase(ctx, c)
}

func (s *Service) saveCase(ctx context.Context, c *Case) error {
	if err := s.cases.Put(ctx, *c); err != nil {
		return fmt.Errorf("store case %s: %w", c.ID, err)
	}
	return nil
}

// step adds a timeline line and its audit event.
func (s *Service) step(ctx context.Context, c *Case, a auth.Actor, what, detail string) {
	c.Timeline = append(c.Timeline, Step{At: s.now(), By: a.Username, What: what, Detail: detail})
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "case", c.ID, what+" "+detail))
}

// startAction begins what an action needs: an alert chain, or proposals.
func (s *Service) startAction(ctx context.Context, c *Case, i int, p Person) error {
	act := &c.Actions[i]
	switch act.Kind {
	case ActAlertSocial, ActAlertFamily, ActAlertCaregivers, ActMissed:
		links := s.linksFor(ctx, act.Kind, p, c.Caregiver)
		if len(links) == 0 {
			act.State = ActionNoContact
			s.step(ctx, c, nodeActor, "no_contact", act.Kind)
			s.tellAdmins(ctx, c, "no_contact")
			return nil
		}
		al, err := s.newAlert(ctx, c, act.Kind, links)
		if err != nil {
			return err
		}
		act.Alert = al.ID
		s.step(ctx, c, nodeActor, "alert_started", act.Kind+" "+al.ID)
	case ActProposeServices:
		props, err := s.propose(ctx, c.Kind, p.Municipality)
		if err != nil {
			s.log.Warn("service proposals failed", "case", c.ID, "err", err)
			s.step(ctx, c, nodeActor, "proposals_failed", "")
			return nil
		}
		act.Proposals = props
		s.step(ctx, c, nodeActor, "proposals", fmt.Sprintf("%d", len(props)))
	case ActEmergency:
		// The caregiver sees the emergency card and confirms the call.
	}
	return nil
}

func (s *Service) settingsFor(ben string) Settings {
	st, ok := s.settings.Get(ben)
	if !ok {
		st = Settings{Beneficiary: ben}
	}
	if st.RepeatAfter == 0 {
		st.RepeatAfter = s.cfg.RepeatAfter
	}
	if st.EscalateAfter == 0 {
		st.EscalateAfter = s.cfg.EscalateAfter
	}
	if st.Repeats == 0 {
		st.Repeats = s.cfg.Repeats
	}
	if st.Retries == 0 {
		st.Retries = s.cfg.Retries
	}
	return st
}

// tellAdmins leaves an in-app notice for the coop admins.
func (s *Service) tellAdmins(ctx context.Context, c *Case, what string) {
	if s.cfg.Notify == nil {
		return
	}
	for _, u := range s.cfg.Dir.Admins(ctx) {
		lang := s.langOf(Link{Channel: "inapp", To: u})
		m := Message{ID: "admin/" + c.ID + "/" + what + "/" + u, Channel: "inapp", To: u,
			Subject: s.text(lang, "alert.admin_subject", "What", s.what(lang, c)),
			Body:    s.text(lang, "alert.admin_"+what), Ref: c.ID, Link: s.caseLink(c, false), Beneficiary: c.Beneficiary}
		if err := s.cfg.Notify.Enqueue(ctx, m); err != nil {
			s.log.Error("admin notice not queued", "case", c.ID, "err", err)
		}
	}
}

// Settings.

// SaveSettings stores a beneficiary's chain and delays. Admins only.
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, st Settings) (Settings, error) {
	if a.Role != auth.Admin {
		return Settings{}, s.deny(ctx, a, "escalation_settings", st.Beneficiary, "save")
	}
	if st.Chain == nil {
		st.Chain = []Link{}
	}
	for i := range st.Chain {
		st.Chain[i].ID = "" // derived, never stored
	}
	if err := problem.Invalid(st.Check()); err != nil {
		return Settings{}, err
	}
	if _, ok := s.cfg.Dir.Beneficiary(ctx, st.Beneficiary); !ok {
		return Settings{}, problem.ErrNotFound
	}
	if err := s.settings.Put(ctx, st); err != nil {
		return Settings{}, fmt.Errorf("store settings: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "escalation_settings", st.Beneficiary, "")); err != nil {
		return Settings{}, fmt.Errorf("audit settings: %w", err)
	}
	st.Chain = s.withIDs(st.Beneficiary, slices.Clone(st.Chain))
	return st, nil
}

// GetSettings returns the settings in force for a beneficiary, with the
// chain the node would use.
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, ben string) (Settings, error) {
	if a.Role != auth.Admin {
		return Settings{}, s.deny(ctx, a, "escalation_settings", ben, "read")
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, ben)
	if !ok {
		return Settings{}, problem.ErrNotFound
	}
	st := s.settingsFor(ben)
	st.Chain = s.chain(ctx, p)
	if st.Chain == nil {
		st.Chain = []Link{}
	}
	s.cfg.Audit.Note(s.event(a, audit.Read, "escalation_settings", ben, ""))
	return st, nil
}

// Cases.

// CaseQuery selects cases.
type CaseQuery struct {
	State       string // open, closed, or "" for both
	Beneficiary string
}

// Cases lists the cases the actor may see, newest first.
func (s *Service) Cases(ctx context.Context, a auth.Actor, q CaseQuery) ([]Case, error) {
	if a.Role != auth.Admin && a.Role != auth.Caregiver {
		return nil, s.deny(ctx, a, "case", "", "list")
	}
	out := s.cases.Filter(func(c *Case) bool {
		return (q.State == "" || c.State == q.State) && (q.Beneficiary == "" || c.Beneficiary == q.Beneficiary)
	})
	out = slices.DeleteFunc(out, func(c Case) bool { return !s.canSee(ctx, a, c.Beneficiary) })
	slices.SortStableFunc(out, func(x, y Case) int { return y.OpenedAt.Compare(x.OpenedAt) })
	s.cfg.Audit.Note(s.event(a, audit.List, "case", "", q.State))
	if out == nil {
		out = []Case{}
	}
	return out, nil
}

// Case returns one case.
func (s *Service) Case(ctx context.Context, a auth.Actor, id string) (Case, error) {
	c, ok := s.cases.Get(id)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Case{}, s.deny(ctx, a, "case", id, "read")
	}
	s.cfg.Audit.Note(s.event(a, audit.Read, "case", id, ""))
	return c, nil
}

// AddAction adds an action to an open case (a caregiver choosing more after
// the outcome, or the admin).
func (s *Service) AddAction(ctx context.Context, a auth.Actor, id, kind string) (Case, error) {
	if !slices.Contains(ActionKinds, kind) {
		return Case{}, problem.Invalid(map[string]string{"action": "invalid"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(id)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Case{}, s.deny(ctx, a, "case", id, "add action")
	}
	if c.State != CaseOpen {
		return Case{}, problem.New(http.StatusConflict, "closed", "the case is closed")
	}
	if slices.ContainsFunc(c.Actions, func(x Action) bool { return x.Kind == kind }) {
		return c, nil
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, c.Beneficiary)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	c.Actions = append(c.Actions, Action{Kind: kind, State: ActionPending})
	s.step(ctx, &c, a, "action_added", kind)
	if err := s.startAction(ctx, &c, len(c.Actions)-1, p); err != nil {
		return Case{}, err
	}
	return c, s.saveCase(ctx, &c)
}

// CompleteAction marks an action done (e.g. the admin phoned social
// services by hand).
func (s *Service) CompleteAction(ctx context.Context, a auth.Actor, id, kind string) (Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(id)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Case{}, s.deny(ctx, a, "case", id, "complete action")
	}
	i := slices.IndexFunc(c.Actions, func(x Action) bool { return x.Kind == kind })
	if i < 0 {
		return Case{}, problem.ErrNotFound
	}
	if c.Actions[i].State != ActionDone {
		c.Actions[i].State, c.Actions[i].DoneAt, c.Actions[i].DoneBy = ActionDone, s.now(), a.Username
		s.step(ctx, &c, a, "action_done", kind)
		if err := s.saveCase(ctx, &c); err != nil {
			return Case{}, err
		}
	}
	return c, nil
}

// CloseCase closes a case. Open alerts stop.
func (s *Service) CloseCase(ctx context.Context, a auth.Actor, id string) (Case, error) {
	if a.Role != auth.Admin {
		return Case{}, s.deny(ctx, a, "case", id, "close")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(id)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if c.State == CaseClosed {
		return c, nil
	}
	for _, act := range c.Actions {
		if al, ok := s.alerts.Get(act.Alert); ok && al.State == AlertActive {
			al.State, al.NextAt = AlertAcked, time.Time{}
			al.AckedBy, al.AckedAt = a.Username, s.now()
			if err := s.alerts.Put(ctx, al); err != nil {
				return Case{}, fmt.Errorf("stop alert: %w", err)
			}
		}
	}
	c.State, c.ClosedAt = CaseClosed, s.now()
	s.step(ctx, &c, a, "closed", "")
	return c, s.saveCase(ctx, &c)
}
