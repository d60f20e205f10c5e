package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// Channels.
const (
	InApp   = "inapp"
	Email   = "email"
	Webhook = "webhook"
)

// Message is one notification to deliver.
type Message struct {
	ID      string            `json:"id"` // delivered once per ID
	Channel string            `json:"channel"`
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Body    string            `json:"body"`
	Ref     string            `json:"ref,omitempty"`
	AckURL  string            `json:"ack_url,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
	// Link (a path of the app) and Beneficiary (an opaque id) are kept
	// with in-app messages only: the inbox links the case and names the
	// person to a reader allowed to see them. Never sent by e-mail or
	// webhook.
	Link        string `json:"link,omitempty"`
	Beneficiary string `json:"beneficiary,omitempty"`
}

// Delivery states.
const (
	Pending = "pending"
	Sent    = "sent"
	Failed  = "failed" // gave up after MaxAttempts; the admin may retry
)

// Delivery is a message on its way, stored before the first attempt.
type Delivery struct {
	Message
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
}

// Item is one message in a user's in-app inbox.
type Item struct {
	ID      string `json:"id"`
	User    string `json:"user"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Ref     string `json:"ref,omitempty"`
	AckURL  string `json:"ack_url,omitempty"`
	Link    string `json:"link,omitempty"`
	// Beneficiary is the opaque id of the person the message is about.
	Beneficiary string    `json:"beneficiary,omitempty"`
	At          time.Time `json:"at"`
	Read        bool      `json:"read"`
}

// Config configures delivery.
type Config struct {
	Store  store.Namespace
	Clock  clock.Clock // default: the real clock
	Logger *slog.Logger
	SMTP   *SMTPConfig // nil: e-mail messages fail with ErrNoSMTP until configured
	// WebhookSecret signs webhook bodies; required for webhook messages.
	WebhookSecret []byte
	HTTP          *http.Client
	// MaxAttempts before a delivery is marked failed (default 8); Backoff
	// is the first wait (default 30 s), doubled up to MaxBackoff (default 1 h).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// Timeout of one attempt (default 20 s).
	Timeout time.Duration
}

// Service stores and delivers messages.
type Service struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	deliveries *store.Collection[Delivery]
	inbox      *store.Collection[Item]

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool
}

// Errors of delivery configuration.
var (
	ErrNoSMTP    = errors.New("no SMTP server configured")
	ErrNoSecret  = errors.New("no webhook secret configured")
	ErrBadTarget = errors.New("bad recipient")
)

// Open loads the outbox and the inboxes.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: store required")
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 30 * time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: cfg.Timeout}
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "notify"),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l := store.NewLoader(ctx, cfg.Store)
	store.Load(l, &s.deliveries, "deliveries", func(d *Delivery) string { return d.ID })
	store.Load(l, &s.inbox, "inbox", func(i *Item) string { return i.User + "/" + i.ID })
	if l.Err != nil {
		return nil, l.Err
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// Enqueue stores a message for delivery. A message ID seen before is
// ignored, so callers may enqueue again after a crash without doubling.
func (s *Service) Enqueue(ctx context.Context, m Message) error {
	if m.ID == "" || m.To == "" {
		return fmt.Errorf("enqueue: %w", ErrBadTarget)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Channel {
	case InApp:
		key := m.To + "/" + m.ID
		if _, ok := s.inbox.Get(key); ok {
			return nil
		}
		it := Item{ID: m.ID, User: m.To, Subject: m.Subject, Body: m.Body, Ref: m.Ref, AckURL: m.AckURL, Link: m.Link, Beneficiary: m.Beneficiary, At: s.now()}
		if err := s.inbox.Put(ctx, it); err != nil {
			return fmt.Errorf("store inbox item: %w", err)
		}
		return nil
	case Email, Webhook:
	default:
		return fmt.Errorf("enqueue channel %q: %w", m.Channel, ErrBadTarget)
	}
	if _, ok := s.deliveries.Get(m.ID); ok {
		return nil
	}
	m.Link, m.Beneficiary = "", ""
	d := Delivery{Message: m, State: Pending, NextAt: s.now(), CreatedAt: s.now()}
	if err := s.deliveries.Put(ctx, d); err != nil {
		return fmt.Errorf("store delivery: %w", err)
	}
	s.wake()
	return nil
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Start runs deliveries until Close.
func (s *Service) Start(context.Context) error {
	s.started.Store(true)
	go s.loop()
	return nil
}

// Close stops delivering; pending messages stay stored.
func (s *Service) Close() error {
	s.once.Do(func() { close(s.stop) })
	if s.started.Load() {
		<-s.done
	}
	return nil
}

func (s *Service) loop() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		s.RunDue(ctx)
		d := time.Hour
		if next, ok := s.nextDue(); ok {
			d = max(next.Sub(s.now()), 0)
		}
		t := s.cfg.Clock.NewTimer(d)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-s.kick:
		case <-t.C():
		}
		t.Stop()
	}
}

func (s *Service) nextDue() (time.Time, bool) {
	var next time.Time
	s.deliveries.Filter(func(d *Delivery) bool {
		if d.State == Pending && (next.IsZero() || d.NextAt.Before(next)) {
			next = d.NextAt
		}
		return false
	})
	return next, !next.IsZero()
}

// RunDue attempts every delivery that is due, one at a time. The loop calls
// it; tests call it directly after moving a fake clock.
func (s *Service) RunDue(ctx context.Context) {
	now := s.now()
	due := s.deliveries.Filter(func(d *Delivery) bool { return d.State == Pending && !now.Before(d.NextAt) })
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		err := s.attempt(ctx, &d.Message)
		s.mu.Lock()
		cur, ok := s.deliveries.Get(d.ID)
		if !ok || cur.State != Pending {
			s.mu.Unlock()
			continue
		}
		cur.Attempts++
		if err == nil {
			cur.State, cur.SentAt, cur.NextAt, cur.LastError = Sent, s.now(), time.Time{}, ""
		} else {
			cur.LastError = err.Error()
			if cur.Attempts >= s.cfg.MaxAttempts {
				cur.State, cur.NextAt = Failed, time.Time{}
				s.log.Warn("delivery failed", "delivery", cur.ID, "channel", cur.Channel, "attempts", cur.Attempts)
			} else {
				cur.NextAt = s.now().Add(s.backoff(cur.Attempts))
			}
		}
		if perr := s.deliveries.Put(ctx, cur); perr != nil {
			s.log.Error("delivery state not stored", "delivery", cur.ID, "err", perr)
		}
		s.mu.Unlock()
	}
}

// backoff is Backoff × 2^(attempts-1), capped at MaxBackoff.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.Backoff
	for i := 1; i < attempts && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

func (s *Service) attempt(ctx context.Context, m *Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	switch m.Channel {
	case Email:
		if s.cfg.SMTP == nil {
			return ErrNoSMTP
		}
		return s.cfg.SMTP.send(ctx, m)
	case Webhook:
		if len(s.cfg.WebhookSecret) == 0 {
			return ErrNoSecret
		}
		return postWebhook(ctx, s.cfg.HTTP, s.cfg.WebhookSecret, s.now(), m)
	}
	return ErrBadTarget
}

// Inbox returns a user's in-app messages, newest first.
func (s *Service) Inbox(a auth.Actor) []Item {
	out := s.inbox.Filter(func(i *Item) bool { return i.User == a.Username })
	slices.SortStableFunc(out, func(x, y Item) int { return y.At.Compare(x.At) })
	if out == nil {
		out = []Item{}
	}
	return out
}

// Unread counts a user's unread messages.
func (s *Service) Unread(a auth.Actor) int {
	return len(s.inbox.Filter(func(i *Item) bool { return i.User == a.Username && !i.Read }))
}

// MarkRead marks one of the user's messages read.
func (s *Service) MarkRead(ctx context.Context, a auth.Actor, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.inbox.Get(a.Username + "/" + id)
	if !ok {
		return problem.ErrNotFound
	}
	if it.Read {
		return nil
	}
	it.Read = true
	return s.inbox.Put(ctx, it)
}

// Deliveries lists e-mail and webhook deliveries for the admin, newest
// first; state "" lists all.
func (s *Service) Deliveries(a auth.Actor, state string) ([]Delivery, error) {
	if a.Role != auth.Admin {
		return nil, problem.ErrForbidden
	}
	out := s.deliveries.Filter(func(d *Delivery) bool { return state == "" || d.State == state })
	slices.SortStableFunc(out, func(x, y Delivery) int { return y.CreatedAt.Compare(x.CreatedAt) })
	if out == nil {
		out = []Delivery{}
	}
	return out, nil
}

// Retry puts a failed delivery back in the queue. Admins only.
func (s *Service) Retry(ctx context.Context, a auth.Actor, id string) error {
	if a.Role != auth.Admin {
		return problem.ErrForbidden
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries.Get(id)
	if !ok {
		return problem.ErrNotFound
	}
	if d.State != Failed {
		return nil
	}
	d.State, d.Attempts, d.NextAt = Pending, 0, s.now()
	if err := s.deliveries.Put(ctx, d); err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	s.wake()
	return nil
}
