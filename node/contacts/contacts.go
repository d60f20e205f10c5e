package contacts

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workers"
)

// States of a contact. The family's side goes sent → received → asked →
// accepted or declined; the coop's side starts at received.
const (
	StateSent     = "sent"     // queued on the family's node
	StateReceived = "received" // the coop's node has it
	StateAsked    = "asked"    // the coop has asked the worker
	StateAccepted = "accepted" // the worker accepts: contacts exchanged
	StateDeclined = "declined" // the worker declines: final
	// StateUnavailable: the coop's node refused the ask (the profile
	// was withdrawn meanwhile); final.
	StateUnavailable = "unavailable"
)

// Sides of a contact record.
const (
	SideFamily = "family" // the family's home node
	SideCoop   = "coop"   // the vouching coop's node
)

// Contact is one family's request to meet one worker, as one side holds it.
type Contact struct {
	ID   string `json:"id"`
	Side string `json:"side"`
	// Family side only: the family request and its owner.
	Request string `json:"request,omitempty"`
	Owner   string `json:"owner,omitempty"`
	// Peer is the other node: the coop's on the family side, the
	// family's home node on the coop's side.
	Peer     string `json:"peer"`
	Profile  string `json:"profile"` // the profile's id (the worker record's on the coop's side)
	Alias    string `json:"alias,omitempty"`
	CoopName string `json:"coop_name,omitempty"`
	Need     Need   `json:"need"`
	Message  string `json:"message,omitempty"`
	State    string `json:"state"`
	Steps    []Step `json:"steps"`
	// Worker is the worker's contacts: on the family side once she
	// accepted. Family is the family's: on the family side from the ask
	// (its own), on the coop's side once the worker accepted.
	Worker  *Person   `json:"worker,omitempty"`
	Family  *Person   `json:"family,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// LogValue logs only the id.
func (c Contact) LogValue() slog.Value { return slog.StringValue(c.ID) }

// Step is one change of state, visible to both sides.
type Step struct {
	At    time.Time `json:"at"`
	State string    `json:"state"`
}

// Notifier tells a node's people about a contact: the family account
// user, or the coop's staff when user is "". Kinds and ids only.
type Notifier func(ctx context.Context, kind, object, user string)

// Carrier sends one envelope to a node and returns its answer.
type Carrier = outbox.Carrier

// Config configures the service.
type Config struct {
	Store    store.Namespace // the node's /contacts
	Audit    *audit.Log
	Clock    clock.Clock
	Logger   *slog.Logger
	Self     string // this node's peer id
	Families *families.Service
	Workers  *workers.Service
	Profiles *workers.Profiles // nil without federation: no ask
	Notify   Notifier
	// MinBackoff and MaxBackoff bound the outbox's retries.
	MinBackoff, MaxBackoff time.Duration
}

// Service is the contact flow of one node, both sides.
type Service struct {
	cfg  Config
	log  *slog.Logger
	out  *outbox.Outbox
	seen *outbox.Seen
	recv outbox.Receiver

	mu       sync.Mutex // serialises every change
	carrier  Carrier
	asked    *store.Collection[Contact] // family side
	received *store.Collection[Contact] // coop side
}

// Open loads the contacts and their outbox; Start sends what waits.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "contacts")}
	l := store.NewLoader(ctx, cfg.Store)
	id := func(c *Contact) string { return c.ID }
	store.Load(l, &s.asked, "asked", id)
	store.Load(l, &s.received, "received", id)
	if l.Err != nil {
		return nil, l.Err
	}
	s.seen = outbox.NewSeen(store.NewSub(cfg.Store, "/seen"))
	s.recv = outbox.Receiver{Seen: s.seen, Root: cfg.Store, Refused: s.refused, Log: s.log, What: "contacts message"}
	var err error
	s.out, err = outbox.Open(ctx, outbox.Config{Store: namespace.Wrap(cfg.Store, ds.NewKey("/outbox")), Clock: cfg.Clock,
		Send: s.send, Logger: cfg.Logger, MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetCarrier sets the link to other nodes (nil: messages wait).
func (s *Service) SetCarrier(c Carrier) {
	s.mu.Lock()
	s.carrier = c
	s.mu.Unlock()
}

// Start sends what waits in the outbox.
func (s *Service) Start() { s.out.Start() }

// Close stops the outbox; what waits stays stored.
func (s *Service) Close() error { return s.out.Close() }

// Wake sends what waits for peer now (it has just connected).
func (s *Service) Wake(peer string) { s.out.Wake(peer) }

// Outbox returns the outbox (metrics, tests).
func (s *Service) Outbox() *outbox.Outbox { return s.out }

// send is the outbox's delivery: over the carrier, or straight to this
// node when the family and the coop share it. An ask the coop's node
// took moves the family's contact to received.
func (s *Service) send(ctx context.Context, to, _ string, payload []byte) error {
	s.mu.Lock()
	c := s.carrier
	s.mu.Unlock()
	a, err := outbox.Deliver(ctx, s.cfg.Self, to, payload, c, s.HandleRemote)
	if err != nil {
		return err
	}
	var e Envelope
	if json.Unmarshal(payload, &e) == nil && e.Type == MsgAsk {
		s.delivered(ctx, e.Contact, a.OK)
	}
	return a.Err()
}

// delivered moves a sent contact to received, or to unavailable when the
// coop's node refused it.
func (s *Service) delivered(ctx context.Context, id string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.asked.Get(id)
	if !found || c.State != StateSent {
		return
	}
	if ok {
		s.step(&c, StateReceived)
	} else {
		s.step(&c, StateUnavailable)
		s.notify(ctx, "contact", c.ID, c.Owner)
	}
	if err := s.asked.Put(ctx, c); err != nil {
		s.log.Error("cannot record a delivered contact", "contact", id, "err", err)
	}
}

// step moves c to state, now.
func (s *Service) step(c *Contact, state string) {
	now := s.cfg.Clock.Now().UTC()
	c.State, c.Updated = state, now
	c.Steps = append(c.Steps, Step{At: now, State: state})
}

// queue stores one message for to in the outbox.
func (s *Service) queue(ctx context.Context, to, typ, contact string, body any) error {
	id := newID("ms")
	b, err := encode(id, s.cfg.Self, typ, contact, body)
	if err != nil {
		return err
	}
	return s.out.Enqueue(ctx, to, id, b)
}

func newID(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()) }

// record writes an audit event for a.
func (s *Service) record(ctx context.Context, a auth.Actor, act audit.Action, kind, object, detail string) error {
	if s.cfg.Audit == nil {
		return nil
	}
	ev := a.Event(act, kind, object)
	ev.Detail = detail
	return s.cfg.Audit.Record(ctx, ev)
}

// note queues a read's audit event without waiting for it.
func (s *Service) note(a auth.Actor, kind, object string) {
	if s.cfg.Audit != nil {
		s.cfg.Audit.Note(a.Event(audit.Read, kind, object))
	}
}

// notify tells user (the coop's staff when "") about a contact.
func (s *Service) notify(ctx context.Context, kind, id, user string) {
	if s.cfg.Notify != nil {
		s.cfg.Notify(ctx, kind, id, user)
	}
}

// systemActor is the node acting on what another node sent.
var systemActor = auth.Actor{Username: auth.SystemUser, Role: auth.System}
