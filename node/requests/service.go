package requests

import (
	"context"
	"crypto/rand"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// Catalogue finds a live offering of the federated catalogue by its id
// ("publisher/id" or the bare id).
type Catalogue interface {
	Offering(ctx context.Context, ref string) (OfferingRef, bool)
}

// Carrier sends one envelope to a node and returns its answer.
type Carrier = outbox.Carrier

// Notifier tells a node's people about a request or case (a reminder, a
// new message): the citizen user, or the coop's staff when user is "".
// Only kinds (Note*) and opaque ids, never the request's content. nil:
// nobody is told.
type Notifier func(ctx context.Context, kind, object, user string)

// Kinds of notification: what happened on the other node, told to the
// people of this one. object is a request id, or a case id for the
// case kinds.
const (
	NoteRequest        = "request"         // staff: a request arrived
	NoteReminder       = "reminder"        // staff: a request is still unanswered
	NoteOffer          = "offer"           // citizen: a provider made an offer
	NoteDecline        = "decline"         // citizen: a provider declined
	NoteUnanswered     = "unanswered"      // citizen: a provider has not answered in time
	NoteCaseOpened     = "case_opened"     // staff: the citizen accepted an offer
	NoteCaseStatus     = "case_status"     // either: the other side changed the case's state
	NoteMessage        = "message"         // either: a message on a case
	NoteRequestMessage = "request_message" // either: a message on a request
)

// Config configures the service.
type Config struct {
	Store     store.Namespace
	Audit     *audit.Log
	Clock     clock.Clock
	Logger    *slog.Logger
	Self      string // this node's peer id
	Catalogue Catalogue
	Notify    Notifier
	// DisplayName is a citizen account's display name, sent with a
	// request an operator makes for them (nil: none is sent).
	DisplayName func(username string) string
	// RemindAfter is how long a request may stay unanswered before the
	// provider is reminded and the citizen sees it flagged (default 72 h).
	RemindAfter time.Duration
	// MinBackoff and MaxBackoff bound the outbox's retries.
	MinBackoff, MaxBackoff time.Duration
}

// Service is the requests domain of one node.
type Service struct {
	cfg  Config
	log  *slog.Logger
	out  *outbox.Outbox
	seen *outbox.Seen
	recv outbox.Receiver
	dem  *demand

	// carrier is read by the outbox's workers and by a request being
	// sent before it is stored, outside mu, so it has its own lock, which
	// also guards inFlight.
	cmu      sync.Mutex
	carrier  Carrier
	inFlight map[string]bool // requests sent at once, not yet stored (creating)

	mu     sync.Mutex                 // serialises every change
	mine   *store.Collection[Request] // home node: the citizens' requests
	inbox  *store.Collection[Request] // provider node: requests received
	mirror *store.Collection[Case]    // home node: the citizens' cases
	cases  *store.Collection[Case]    // provider node: authoritative cases

	stop chan struct{}
	wg   sync.WaitGroup

	// grewMu guards grew, closed and replaced each time a received
	// request is durable in the inbox (WaitInbox).
	grewMu sync.Mutex
	grew   chan struct{}
}

// Open loads the collections and the outbox.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RemindAfter <= 0 {
		cfg.RemindAfter = 72 * time.Hour
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "requests"), stop: make(chan struct{}), grew: make(chan struct{}),
		inFlight: map[string]bool{}}
	l := store.NewLoader(ctx, cfg.Store)
	rid := func(r *Request) string { return r.ID }
	cid := func(c *Case) string { return c.ID }
	store.Load(l, &s.mine, "mine", rid)
	store.Load(l, &s.inbox, "inbox", rid)
	store.Load(l, &s.mirror, "mirror", cid)
	store.Load(l, &s.cases, "cases", cid)
	if l.Err != nil {
		return nil, l.Err
	}
	var err error
	s.dem, err = loadDemand(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	s.seen = outbox.NewSeen(namespaced(cfg.Store, "/seen"))
	s.recv = outbox.Receiver{Seen: s.seen, Root: cfg.Store, Refused: s.refused, Log: s.log, What: "requests message"}
	s.out, err = outbox.Open(ctx, outbox.Config{Store: namespaced(cfg.Store, "/outbox"), Clock: cfg.Clock, Send: s.send,
		Logger: cfg.Logger, MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetCarrier sets the link to other nodes (nil: messages wait).
func (s *Service) SetCarrier(c Carrier) {
	s.cmu.Lock()
	s.carrier = c
	s.cmu.Unlock()
}

// Start sends what waits in the outbox and runs the reminders.
func (s *Service) Start() {
	s.out.Start()
	s.wg.Add(1)
	go s.remindLoop()
}

// Close stops the outbox and the reminders.
func (s *Service) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	s.dem.flush(context.Background())
	return s.out.Close()
}

// Wake sends what waits for peer now (it has just connected).
func (s *Service) Wake(peer string) { s.out.Wake(peer) }

// Outbox returns the outbox (metrics, tests).
func (s *Service) Outbox() *outbox.Outbox { return s.out }

// send is the outbox's delivery: over the carrier, or straight to this
// node when it is its own provider.
func (s *Service) send(ctx context.Context, to, _ string, payload []byte) error {
	s.cmu.Lock()
	c := s.carrier
	s.cmu.Unlock()
	a, err := outbox.Deliver(ctx, s.cfg.Self, to, payload, c, s.HandleRemote)
	if err != nil {
		return err
	}
	if a.Refused == "unknown_request" {
		// Not closed: the reply stays queued, the home node refuses it
		// again and the close is tried again.
		if err := s.orphaned(ctx, to, payload); err != nil {
			return err
		}
	}
	return a.Err()
}

// queue stores one message for to in the outbox.
func (s *Service) queue(ctx context.Context, to, typ, request string, body any) error {
	id := newID("ms")
	b, err := encode(id, s.cfg.Self, typ, request, body)
	if err != nil {
		return err
	}
	return s.out.Enqueue(ctx, to, id, b)
}

func newID(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()) }

// orderedID is an id whose order is the order of creation on this node
// (base-36 time, then randomness), so that the collections, kept in id
// order, list requests and cases by date without sorting them.
func (s *Service) orderedID(prefix string) string {
	t := strconv.FormatInt(s.cfg.Clock.Now().UnixNano(), 36)
	return prefix + "-" + strings.Repeat("0", max(0, 13-len(t))) + t + strings.ToLower(rand.Text())[:12]
}

// DefaultLimit and MaxLimit bound a provider's list.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// newestFirst returns the page of c from offset (counted from the newest)
// up to limit, newest first, copying only the page.
func newestFirst[T any](c interface {
	Count() int
	Page(func(*T) bool, int, int) (int, []T)
}, offset, limit int) []T {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	total := c.Count()
	offset = max(0, offset)
	n := min(limit, total-offset)
	if n <= 0 {
		return nil
	}
	_, page := c.Page(func(*T) bool { return true }, total-offset-n, n)
	slices.Reverse(page)
	return page
}

// record writes an audit event for a.
func (s *Service) record(ctx context.Context, a auth.Actor, act audit.Action, kind, object, detail string) error {
	if s.cfg.Audit == nil {
		return nil
	}
	return s.cfg.Audit.Record(ctx, event(a, act, kind, object, detail))
}

// recordTx audits a's act within tx (audit.Log.RecordTx): the event is
// durable with the change or not at all. tx must be committed or
// abandoned right after.
func (s *Service) recordTx(ctx context.Context, tx *store.Tx, a auth.Actor, act audit.Action, kind, object, detail string) error {
	if s.cfg.Audit == nil {
		return nil
	}
	return s.cfg.Audit.RecordTx(ctx, tx, event(a, act, kind, object, detail))
}

// event is a's audit event: "operator X for citizen Y" when acting.
func event(a auth.Actor, act audit.Action, kind, object, detail string) audit.Event {
	ev := a.Event(act, kind, object)
	ev.Detail = detail
	return ev
}

// inOneWrite makes the writes of steps durable together, in one synced
// write, or none of them: a change, the message that tells the other node
// and its audit event (a crash between separate writes could keep a change
// whose message never leaves). An audit event (recordTx) must be the last
// step: it holds the log's next link until the write ends.
func (s *Service) inOneWrite(ctx context.Context, steps ...func(*store.Tx) error) error {
	tx, err := store.Begin(ctx, s.cfg.Store)
	if err != nil {
		return err
	}
	defer tx.Abandon()
	for _, step := range steps {
		if err := step(tx); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// queueTx queues one message for to within tx.
func (s *Service) queueTx(ctx context.Context, tx *store.Tx, to, typ, request string, body any) error {
	id := newID("ms")
	b, err := encode(id, s.cfg.Self, typ, request, body)
	if err != nil {
		return err
	}
	return s.out.EnqueueTx(ctx, tx, to, id, b)
}

// note queues a read's audit event without waiting for it.
func (s *Service) note(a auth.Actor, act audit.Action, kind, object string) {
	if s.cfg.Audit != nil {
		s.cfg.Audit.Note(a.Event(act, kind, object))
	}
}

// denied audits a refusal of a record and returns the error to show.
func (s *Service) denied(ctx context.Context, a auth.Actor, kind, id string) error {
	_ = s.record(ctx, a, audit.Denied, kind, id, "")
	return problem.ErrNotFound
}

// IsProvider reports whether a acts for the coop (admin, case manager):
// an admin acting for a citizen acts for the citizen, not the coop.
func IsProvider(a auth.Actor) bool {
	return (a.Role == auth.Admin || a.Role == auth.CaseManager) && a.For == ""
}

// ForCitizen reports whether a acts on a citizen's side: the citizen, or
// an operator (or admin) acting for one, in which case the audit events
// name both ("operator X for citizen Y").
func ForCitizen(a auth.Actor) bool { return a.Citizen() != "" }

func conflict(code, msg string) error { return problem.New(409, code, msg) }

// systemActor is the node acting on what another node sent.
var systemActor = auth.Actor{Username: auth.SystemUser, Role: auth.System}

// InboxCount is how many requests this node has received.
func (s *Service) InboxCount() int { return s.inbox.Count() }

// WaitInbox returns once the inbox holds at least n requests, or with
// ctx's error. It waits for the inbox to grow rather than polling, so a
// caller timing a delivery measures the delivery, not its own sleeps.
func (s *Service) WaitInbox(ctx context.Context, n int) error {
	for {
		s.grewMu.Lock()
		grew := s.grew
		s.grewMu.Unlock()
		if s.inbox.Count() >= n {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// inboxGrew wakes every WaitInbox: a received request is durable and in
// the inbox.
func (s *Service) inboxGrew() {
	s.grewMu.Lock()
	close(s.grew)
	s.grew = make(chan struct{})
	s.grewMu.Unlock()
}
