package calls

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Person is what calls needs to know about a beneficiary or a caregiver of
// this node.
type Person struct {
	ID         string
	Name       string
	Caregivers []string // of a beneficiary: the assigned caregiver ids
	Photo      string   // of a caregiver: her photo's tag, "" without one
}

// Directory is the node's private registry as calls sees it; node/care
// implements it. Lookups here are the node's own, not a user's.
type Directory interface {
	Beneficiary(id string) (Person, bool)
	Caregiver(id string) (Person, bool)
	// TerminalBeneficiary is the beneficiary a terminal is assigned to.
	TerminalBeneficiary(terminal string) (string, bool)
}

// Config configures the calls service.
type Config struct {
	Store  store.Namespace
	Audit  *audit.Log
	Dir    Directory
	Key    ed25519.PrivateKey // the node key, which signs grants
	PeerID string
	Clock  clock.Clock // default: the real clock
	Logger *slog.Logger
	ICE    ICEConfig
	// Remote reaches other nodes; nil on a node without federation.
	Remote Remote
	// Limits of one WebSocket: messages per second and burst.
	WSRate  float64
	WSBurst int
	// PairingTTL is how long a pairing code works (default 30 min).
	PairingTTL time.Duration
	// RequestWait is the coop's time for calling back a "Chiamatemi"
	// before it is reported as missed (default DefaultRequestWait).
	RequestWait time.Duration
	// OnEvent hears calls placed, answered and unanswered, "Sto bene",
	// and changes of schedules and terminals (node wires it to
	// escalation); nil: nobody listens.
	OnEvent func(ctx context.Context, ev Event)
}

// Settings are a beneficiary's call settings, chosen by the coop.
type Settings struct {
	Beneficiary string `json:"beneficiary"`
	// DisplayName is all another coop learns of the beneficiary.
	DisplayName string `json:"display_name"`
	// Countdown is the seconds the terminal rings before answering by itself.
	Countdown int `json:"countdown"`
}

// Device is a paired terminal browser; its credential is kept only hashed.
type Device struct {
	ID        string    `json:"id"`
	Terminal  string    `json:"terminal"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// pairing is a one-time pairing code, kept hashed.
type pairing struct {
	Hash     string    `json:"hash"`
	Terminal string    `json:"terminal"`
	Expires  time.Time `json:"expires"`
}

// feed is a caregiver's calendar link, kept hashed.
type feed struct {
	Caregiver string    `json:"caregiver"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Service holds the calls state of one node.
type Service struct {
	cfg Config
	log *slog.Logger

	schedules *store.Collection[Schedule]
	settings  *store.Collection[Settings]
	devices   *store.Collection[Device]
	pairings  *store.Collection[pairing]
	feeds     *store.Collection[feed]
	grants    *store.Collection[Grant]     // issued by this node
	held      *store.Collection[HeldGrant] // issued to this node's caregivers
	records   *store.Collection[Record]
	seen      *store.Collection[seen] // last seen of terminals and caregivers
	requests  *store.Collection[Request]
	coop      *store.Collection[CoopSettings] // one record, coopKey

	pairMu    sync.Mutex
	pairFails []time.Time // recent failed pairing attempts, node-wide

	hub       *Hub
	reqMu     sync.Mutex // orders call request writes and their timers
	reqTimers map[string]clock.Timer

	recMu sync.Mutex     // orders call record writes
	bg    sync.WaitGroup // grant deliveries
}

// Open loads the calls state from cfg.Store.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PairingTTL == 0 {
		cfg.PairingTTL = 30 * time.Minute
	}
	if cfg.WSRate == 0 {
		cfg.WSRate = 50
	}
	if cfg.WSBurst == 0 {
		cfg.WSBurst = 200
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "calls")}
	l := store.NewLoader(ctx, cfg.Store)
	store.Load(l, &s.schedules, "schedules", func(x *Schedule) string { return x.ID })
	store.Load(l, &s.settings, "settings", func(x *Settings) string { return x.Beneficiary })
	store.Load(l, &s.devices, "devices", func(x *Device) string { return x.ID })
	store.Load(l, &s.pairings, "pairings", func(x *pairing) string { return x.Hash })
	store.Load(l, &s.feeds, "feeds", func(x *feed) string { return x.Caregiver })
	store.Load(l, &s.grants, "grants", func(x *Grant) string { return x.ID })
	store.Load(l, &s.held, "held", func(x *HeldGrant) string { return x.ID })
	store.Load(l, &s.records, "records", func(x *Record) string { return x.ID })
	store.Load(l, &s.seen, "seen", func(x *seen) string { return x.Key })
	store.Load(l, &s.requests, "requests", func(x *Request) string { return x.ID })
	store.Load(l, &s.coop, "coop", func(*CoopSettings) string { return coopKey })
	if l.Err != nil {
		return nil, l.Err
	}
	s.hub = newHub(s)
	return s, nil
}

// Hub is the signaling hub of the node.
func (s *Service) Hub() *Hub { return s.hub }

// SetRemote attaches the federation link once the federation runs.
func (s *Service) SetRemote(r Remote) { s.cfg.Remote = r }

// Close ends every live call and socket.
func (s *Service) Close() error {
	s.hub.close()
	s.reqMu.Lock()
	for _, t := range s.reqTimers {
		t.Stop()
	}
	s.reqTimers = nil
	s.reqMu.Unlock()
	s.bg.Wait()
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// newToken returns a random secret and its storage hash.
func newToken(n int) (string, string) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte("difronte/calls/" + t))
	return hex.EncodeToString(h[:])
}

func newID() string { return strings.ToLower(rand.Text()) }

func (s *Service) event(a auth.Actor, act audit.Action, kind, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: kind, Object: id, Remote: a.Remote, Detail: detail}
}

// deny audits a refusal and returns the problem to show.
func (s *Service) deny(ctx context.Context, a auth.Actor, kind, id, why string) error {
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, kind, id, why))
	return problem.ErrForbidden
}

// canSeeBeneficiary: admins see all; caregivers their assigned beneficiaries.
func (s *Service) canSeeBeneficiary(a auth.Actor, ben string) bool {
	if a.Role == auth.Admin {
		return true
	}
	if a.Role != auth.Caregiver || a.CaregiverID == "" {
		return false
	}
	b, ok := s.cfg.Dir.Beneficiary(ben)
	return ok && slices.Contains(b.Caregivers, a.CaregiverID)
}

// Schedules.

// SaveSchedule creates (empty ID) or replaces a schedule. Admins only.
func (s *Service) SaveSchedule(ctx context.Context, a auth.Actor, sc Schedule) (Schedule, error) {
	if a.Role != auth.Admin {
		return Schedule{}, s.deny(ctx, a, "schedule", sc.ID, "save")
	}
	bad := sc.Check()
	if _, ok := s.cfg.Dir.Beneficiary(sc.Beneficiary); !ok && bad["beneficiary"] == "" {
		bad["beneficiary"] = "unknown"
	}
	if !strings.Contains(sc.Caregiver, "/") {
		if _, ok := s.cfg.Dir.Caregiver(sc.Caregiver); !ok && bad["caregiver"] == "" {
			bad["caregiver"] = "unknown"
		}
	}
	if err := problem.Invalid(bad); err != nil {
		return Schedule{}, err
	}
	now := s.now()
	act := audit.Update
	if sc.ID == "" {
		sc.ID, sc.CreatedAt, act = newID(), now, audit.Create
	} else if old, ok := s.schedules.Get(sc.ID); ok {
		sc.CreatedAt = old.CreatedAt
	} else {
		return Schedule{}, problem.ErrNotFound
	}
	sc.UpdatedAt = now
	if err := s.schedules.Put(ctx, sc); err != nil {
		return Schedule{}, fmt.Errorf("store schedule: %w", err)
	}
	s.emit(Event{Type: EventScheduleChanged, Schedule: sc.ID, Beneficiary: sc.Beneficiary})
	return sc, s.cfg.Audit.Record(ctx, s.event(a, act, "schedule", sc.ID, ""))
}

// DeleteSchedule removes a schedule. Admins only.
func (s *Service) DeleteSchedule(ctx context.Context, a auth.Actor, id string) error {
	if a.Role != auth.Admin {
		return s.deny(ctx, a, "schedule", id, "delete")
	}
	sc, ok := s.schedules.Get(id)
	if !ok || sc.Archived {
		return problem.ErrNotFound
	}
	sc.Archived, sc.UpdatedAt = true, s.now()
	if err := s.schedules.Put(ctx, sc); err != nil {
		return fmt.Errorf("delete schedule: %w", err)
	}
	s.emit(Event{Type: EventScheduleChanged, Schedule: id, Beneficiary: sc.Beneficiary})
	return s.cfg.Audit.Record(ctx, s.event(a, audit.Archive, "schedule", id, ""))
}

// Schedules lists the schedules the actor may see, optionally of one beneficiary.
func (s *Service) Schedules(a auth.Actor, ben string) []Schedule {
	out := s.schedules.Filter(func(sc *Schedule) bool {
		return !sc.Archived && (ben == "" || sc.Beneficiary == ben) && (s.canSeeBeneficiary(a, sc.Beneficiary) || (a.CaregiverID != "" && sc.Caregiver == a.CaregiverID))
	})
	if out == nil {
		out = []Schedule{}
	}
	return out
}

// Settings returns a beneficiary's call settings with defaults filled.
func (s *Service) Settings(ben string) Settings {
	st, ok := s.settings.Get(ben)
	if !ok {
		st = Settings{Beneficiary: ben}
	}
	if st.Countdown == 0 {
		st.Countdown = 10
	}
	if st.DisplayName == "" {
		if b, ok := s.cfg.Dir.Beneficiary(ben); ok {
			// The first word only: another coop needs a name to say, not a
			// full identity.
			st.DisplayName, _, _ = strings.Cut(b.Name, " ")
		}
	}
	return st
}

// SaveSettings stores a beneficiary's call settings. Admins only.
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, st Settings) (Settings, error) {
	if a.Role != auth.Admin {
		return Settings{}, s.deny(ctx, a, "call_settings", st.Beneficiary, "save")
	}
	bad := map[string]string{}
	if _, ok := s.cfg.Dir.Beneficiary(st.Beneficiary); !ok {
		bad["beneficiary"] = "unknown"
	}
	if st.Countdown < 0 || st.Countdown > 120 {
		bad["countdown"] = "invalid"
	}
	if len(st.DisplayName) > 60 || strings.ContainsAny(st.DisplayName, "<>") || schema.TextFault(st.DisplayName, 60, false) != "" {
		bad["display_name"] = "invalid"
	}
	if err := problem.Invalid(bad); err != nil {
		return Settings{}, err
	}
	if err := s.settings.Put(ctx, st); err != nil {
		return Settings{}, fmt.Errorf("store call settings: %w", err)
	}
	return s.Settings(st.Beneficiary), s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "call_settings", st.Beneficiary, ""))
}
