package catchup

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// ProtocolID is the libp2p protocol of catch-up.
const ProtocolID protocol.ID = "/difronte/catchup/1"

const protocolVersion = 1

// applyBatch is how many verified entries the requester stores per
// datastore batch.
const applyBatch = 256

// ErrBusy is returned when a session with the peer is already running.
var ErrBusy = errors.New("catch-up session with this peer already running")

// Options configure a Service; zero values mean the defaults.
type Options struct {
	Logger *slog.Logger
	// MaxEntriesPerSession bounds the entries one Sync accepts (and the
	// requester asks for); Stats.Truncated says when another Sync is due.
	// Default 100,000.
	MaxEntriesPerSession int
	// MaxSessionsPerPeer bounds concurrent sessions a peer may hold open
	// with this responder. Default 2.
	MaxSessionsPerPeer int
	// IdleTimeout bounds the wait for each frame. Default 30 s.
	IdleTimeout time.Duration
	// SessionTimeout bounds a whole session. Default 5 min.
	SessionTimeout time.Duration
	// ValidateBody checks non-tombstone bodies; default schema.ValidateBody.
	ValidateBody func(kind schema.Kind, key string, body []byte) error
	// MaxPublishers bounds how many marks a requester may send. Default 100,000.
	MaxPublishers int
	// Clock is the clock entries' issued_at is compared with
	// (schema.MaxClockSkew); nil is the real one.
	Clock clock.Clock
	// Budget bounds, per requesting peer, the sessions per minute and the
	// bytes per minute this node answers (its Concurrent field is unused:
	// MaxSessionsPerPeer bounds open sessions). Zero: DefaultBudget.
	Budget budget.Limits
	// Observe, when set, hears of every session, served or pulled, for
	// metrics. It must not block.
	Observe func(Report)
}

// DefaultBudget is what one peer may ask of a responder. Honest requesters
// stay far below it: one session on every new connection, one a minute,
// and while a gap lasts at most one every 2 s, each answered with the few
// entries that changed; a node that just joined takes the whole replica
// once (tens of MB for 100,000 records). A peer that asks for everything
// in a loop gets 32 MiB, then 4 MiB a minute.
var DefaultBudget = budget.Limits{
	SessionsPerMinute: 30, SessionBurst: 10,
	BytesPerMinute: 4 << 20, ByteBurst: 32 << 20,
}

// Role says which side of a session a Report describes.
type Role string

// The roles.
const (
	Served Role = "serve" // this node answered
	Pulled Role = "pull"  // this node asked
)

// Outcome is how a session ended. The set is fixed.
type Outcome string

// The outcomes.
const (
	InSync  Outcome = "in_sync" // digests equal
	Done    Outcome = "done"    // entries exchanged (possibly none)
	Refused Outcome = "refused" // refused by the responder's budget (Reason says which)
	Failed  Outcome = "failed"  // anything else: a protocol violation, a reset, a timeout
)

// Outcomes returns every Outcome.
func Outcomes() []Outcome { return []Outcome{InSync, Done, Refused, Failed} }

// Report describes one session for metrics: counts and fixed codes only.
type Report struct {
	Role          Role
	Outcome       Outcome
	Reason        budget.Reason // with Refused, or with Done when a budget cut the session short
	Entries       int
	BytesSent     int64
	BytesReceived int64
}

// Stats describe one Sync from the requester's side.
type Stats struct {
	RoundTrips    int   // request/answer turns
	BytesSent     int64 // stream bytes written
	BytesReceived int64 // stream bytes read
	EntryBytes    int64 // wire bytes of the entries received
	Entries       int   // entries received (all verified)
	Foreign       int   // of those, entries of kinds this version does not know (stored, not interpreted)
	Applied       int   // entries that changed the replica
	Checkpoints   int   // of Entries, publishers' checkpoints
	CheckpointB   int64 // of EntryBytes, the checkpoints' bytes
	Deferred      int   // of Entries, issued too far in the future: not stored
	Truncated     bool  // the responder stopped at the entry budget, or its per-peer budget ran out
	// Refused is why the responder's per-peer budget stopped the session
	// (or refused it: then Sync fails with a *budget.Refusal); "" if not.
	Refused budget.Reason
}

// Service answers catch-up requests for a replica and runs them against
// peers.
type Service struct {
	h    host.Host
	r    *replica.Replica
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	serving map[peer.ID]int
	pulling map[peer.ID]bool
	// resume holds, per peer whose last session ran out of budget, the
	// marks that peer vouched for then: the next session with it asks
	// from there so that it makes progress. Only that peer's own word,
	// used only with that peer; the replica's marks never move by it.
	resume map[peer.ID]map[string]uint64
	// notBefore holds, per responder that refused us, when it said to come
	// back; Sync does not ask it before then.
	notBefore map[peer.ID]wait
	budget    *budget.Table
	closed    bool
}

// New registers the catch-up stream handler on h, answering from r.
func New(h host.Host, r *replica.Replica, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxEntriesPerSession <= 0 {
		opts.MaxEntriesPerSession = 100_000
	}
	if opts.MaxSessionsPerPeer <= 0 {
		opts.MaxSessionsPerPeer = 2
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Second
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 5 * time.Minute
	}
	if opts.ValidateBody == nil {
		opts.ValidateBody = schema.ValidateBody
	}
	if opts.MaxPublishers <= 0 {
		opts.MaxPublishers = 100_000
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.Budget == (budget.Limits{}) {
		opts.Budget = DefaultBudget
	}
	opts.Budget.Concurrent = 0 // MaxSessionsPerPeer
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		h: h, r: r, opts: opts, log: opts.Logger.With("component", "catchup"),
		ctx: ctx, cancel: cancel,
		serving: make(map[peer.ID]int), pulling: make(map[peer.ID]bool),
		resume:    make(map[peer.ID]map[string]uint64),
		notBefore: make(map[peer.ID]wait),
		budget:    budget.New(opts.Budget, opts.Clock, 0),
	}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s
}

// Close removes the handler, ends running sessions and waits for them.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.h.RemoveStreamHandler(ProtocolID)
	s.cancel()
	s.wg.Wait()
	return nil
}

// wait is a responder's refusal: not before until, and why.
type wait struct {
	until  time.Time
	reason budget.Reason
}

func (s *Service) observe(r Report) {
	if s.opts.Observe != nil {
		s.opts.Observe(r)
	}
}

// session wraps a stream with byte counters, buffered I/O and deadlines.
type session struct {
	st   network.Stream
	fr   *frameReader
	bw   *bufio.Writer
	in   *counter
	out  *counter
	idle time.Duration
	// spend, on the responder, charges what it reads and the entries it
	// sends to the requester's byte budget.
	spend func(int) error
	// inSync: the responder answered in-sync.
	inSync bool
}

type counter struct {
	rw interface {
		io.Reader
		io.Writer
	}
	n int64
}

func (c *counter) Read(b []byte) (int, error) {
	n, err := c.rw.Read(b)
	c.n += int64(n)
	return n, err
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.rw.Write(b)
	c.n += int64(n)
	return n, err
}

func newSession(st network.Stream, idle time.Duration) *session {
	in, out := &counter{rw: st}, &counter{rw: st}
	return &session{st: st, fr: newFrameReader(in), bw: bufio.NewWriterSize(out, 64<<10), in: in, out: out, idle: idle,
		spend: func(int) error { return nil }}
}

func (ss *session) read(limit int) (byte, []byte, error) {
	_ = ss.st.SetReadDeadline(clock.Deadline(ss.idle))
	typ, payload, err := ss.fr.next(limit)
	if err == nil {
		err = ss.spend(len(payload) + 1)
	}
	return typ, payload, err
}

func (ss *session) write(typ byte, payload []byte) error {
	_ = ss.st.SetWriteDeadline(clock.Deadline(ss.idle))
	return writeFrame(ss.bw, typ, payload)
}

func (ss *session) flush() error {
	_ = ss.st.SetWriteDeadline(clock.Deadline(ss.idle))
	return ss.bw.Flush()
}
