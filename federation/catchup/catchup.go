package catchup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

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
	Truncated     bool  // the responder stopped at the entry budget
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
	closed  bool
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
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		h: h, r: r, opts: opts, log: opts.Logger.With("component", "catchup"),
		ctx: ctx, cancel: cancel,
		serving: make(map[peer.ID]int), pulling: make(map[peer.ID]bool),
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

// session wraps a stream with byte counters, buffered I/O and deadlines.
type session struct {
	st   network.Stream
	fr   *frameReader
	bw   *bufio.Writer
	in   *counter
	out  *counter
	idle time.Duration
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
	return &session{st: st, fr: newFrameReader(in), bw: bufio.NewWriterSize(out, 64<<10), in: in, out: out, idle: idle}
}

func (ss *session) read(limit int) (byte, []byte, error) {
	_ = ss.st.SetReadDeadline(time.Now().Add(ss.idle))
	return ss.fr.next(limit)
}

func (ss *session) write(typ byte, payload []byte) error {
	_ = ss.st.SetWriteDeadline(time.Now().Add(ss.idle))
	return writeFrame(ss.bw, typ, payload)
}

func (ss *session) flush() error {
	_ = ss.st.SetWriteDeadline(time.Now().Add(ss.idle))
	return ss.bw.Flush()
}

// Sync pulls from p what the replica lacks and p holds.
func (s *Service) Sync(ctx context.Context, p peer.ID) (Stats, error) {
	var st Stats
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return st, errors.New("catch-up service closed")
	}
	if s.pulling[p] {
		s.mu.Unlock()
		return st, fmt.Errorf("catch up with %s: %w", p, ErrBusy)
	}
	s.pulling[p] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pulling, p)
		s.mu.Unlock()
		s.wg.Done()
	}()

	ctx, cancel := context.WithTimeout(ctx, s.opts.SessionTimeout)
	defer cancel()
	stopOnClose := context.AfterFunc(s.ctx, cancel)
	defer stopOnClose()
	stream, err := s.h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return st, fmt.Errorf("catch up with %s: open stream: %w", p, err)
	}
	// Deadlines are not honoured by every transport; resetting on the
	// context is what bounds a stalled peer everywhere.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()
	ss := newSession(stream, s.opts.IdleTimeout)
	err = s.pull(ctx, ss, &st)
	st.BytesSent, st.BytesReceived = ss.out.n, ss.in.n
	if err != nil {
		_ = stream.Reset()
		if cerr := ctx.Err(); cerr != nil {
			// The reset on timeout surfaces as a closed-pipe read; say why.
			err = fmt.Errorf("%w: %v", cerr, err)
		}
		s.log.Warn("catch-up failed", "peer", p, "entries", st.Entries, "err", err)
		return st, fmt.Errorf("catch up with %s: %w", p, err)
	}
	_ = stream.Close()
	s.log.Debug("catch-up done", "peer", p, "entries", st.Entries, "applied", st.Applied, "round_trips", st.RoundTrips)
	return st, nil
}

func (s *Service) pull(ctx context.Context, ss *session, st *Stats) error {
	budget := s.opts.MaxEntriesPerSession
	if err := ss.write(fHello, hello{version: protocolVersion, digest: s.r.Digest(), budget: uint64(budget)}.append(nil)); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	if err := ss.flush(); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	st.RoundTrips++
	typ, payload, err := ss.read(MaxFrame)
	if err != nil {
		return fmt.Errorf("read hello answer: %w", err)
	}
	switch {
	case typ == fInSync && len(payload) == 0:
		return nil
	case typ == fDiffer && len(payload) == 0:
	default:
		return fmt.Errorf("%w: frame %d answering hello", errProtocol, typ)
	}

	asked := s.r.Marks()
	pubs := make([]string, 0, len(asked))
	for pub := range asked {
		pubs = append(pubs, pub)
	}
	slices.Sort(pubs)
	var buf []byte
	for _, pub := range pubs {
		buf = appendMark(buf, mark{pub, asked[pub]})
		if len(buf) >= marksFrameTarget {
			if err := ss.write(fMarks, buf); err != nil {
				return fmt.Errorf("send marks: %w", err)
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if err := ss.write(fMarks, buf); err != nil {
			return fmt.Errorf("send marks: %w", err)
		}
	}
	if err := ss.write(fMarksEnd, nil); err != nil {
		return fmt.Errorf("send marks: %w", err)
	}
	if err := ss.flush(); err != nil {
		return fmt.Errorf("send marks: %w", err)
	}
	st.RoundTrips++

	var (
		section string // publisher of the open section, "" if none
		lastSeq uint64
		done    = make(map[string]bool)
		batch   []*schema.Entry
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := s.r.ApplyBatch(ctx, batch)
		st.Applied += n
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("store entries: %w", err)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		typ, payload, err := ss.read(MaxFrame)
		if err != nil {
			return err
		}
		switch typ {
		case fSection:
			if section != "" {
				return fmt.Errorf("%w: section inside a section", errProtocol)
			}
			pub := string(payload)
			if len(pub) > maxPeerIDLen || done[pub] {
				return fmt.Errorf("%w: bad or repeated section publisher", errProtocol)
			}
			if _, err := schema.PublicKeyFromPeerID(pub); err != nil {
				return fmt.Errorf("%w: section publisher: %v", errProtocol, err)
			}
			section, lastSeq, done[pub] = pub, 0, true
		case fEntry:
			if section == "" {
				return fmt.Errorf("%w: entry outside a section", errProtocol)
			}
			if st.Entries >= budget {
				return fmt.Errorf("%w: more entries than the budget of %d", errProtocol, budget)
			}
			if len(payload) > schema.MaxEntrySize {
				return fmt.Errorf("%w: entry of %d bytes", errProtocol, len(payload))
			}
			// Every kind, including those of a newer version: they are
			// verified by signature, stored and relayed so that the
			// marks stay true, but never interpreted by this version.
			e, err := schema.UnmarshalEntryAnyKind(payload)
			if err != nil {
				return fmt.Errorf("%w: entry: %v", errProtocol, err)
			}
			switch {
			case e.Publisher != section:
				return fmt.Errorf("%w: entry of %s in the section of %s", errProtocol, e.Publisher, section)
			case e.Seq <= asked[section]:
				return fmt.Errorf("%w: seq %d of %s at or below the mark %d", errProtocol, e.Seq, section, asked[section])
			case e.Seq <= lastSeq:
				return fmt.Errorf("%w: seq %d of %s out of order", errProtocol, e.Seq, section)
			}
			if !e.Kind.Known() {
				if err := s.r.AdmitKind(e.Kind); err != nil {
					return fmt.Errorf("%w: entry of %s seq %d: %v", errProtocol, section, e.Seq, err)
				}
				st.Foreign++
			} else if !e.Tombstone {
				if err := s.opts.ValidateBody(e.Kind, e.Key, e.Body); err != nil {
					return fmt.Errorf("%w: body of %s seq %d: %v", errProtocol, section, e.Seq, err)
				}
			}
			lastSeq = e.Seq
			st.Entries++
			st.EntryBytes += int64(len(payload))
			batch = append(batch, e)
			if len(batch) >= applyBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		case fSectionEnd:
			if section == "" {
				return fmt.Errorf("%w: section end outside a section", errProtocol)
			}
			m, err := parseUvarintPayload(payload)
			if err != nil {
				return err
			}
			if m > max(lastSeq, asked[section]) {
				return fmt.Errorf("%w: mark %d of %s above the last seq sent %d", errProtocol, m, section, lastSeq)
			}
			if err := flush(); err != nil {
				return err
			}
			if m > asked[section] {
				if err := s.r.RaiseMark(ctx, section, m); err != nil {
					return err
				}
			}
			section = ""
		case fDone:
			if section != "" || len(payload) != 0 {
				return fmt.Errorf("%w: done inside a section", errProtocol)
			}
			st.Truncated = st.Entries >= budget
			return flush()
		default:
			return fmt.Errorf("%w: unexpected frame %d", errProtocol, typ)
		}
	}
}

// handle answers one catch-up session.
func (s *Service) handle(stream network.Stream) {
	p := stream.Conn().RemotePeer()
	s.mu.Lock()
	if s.closed || s.serving[p] >= s.opts.MaxSessionsPerPeer {
		s.mu.Unlock()
		_ = stream.Reset()
		return
	}
	s.serving[p]++
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.serving[p]--; s.serving[p] == 0 {
			delete(s.serving, p)
		}
		s.mu.Unlock()
		s.wg.Done()
	}()

	ctx, cancel := context.WithTimeout(s.ctx, s.opts.SessionTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stop()
	ss := newSession(stream, s.opts.IdleTimeout)
	sent, err := s.serve(ctx, ss)
	if err != nil {
		_ = stream.Reset()
		s.log.Info("catch-up request failed", "peer", p, "err", err)
		return
	}
	_ = stream.Close()
	s.log.Debug("catch-up served", "peer", p, "entries", sent, "bytes", ss.out.n)
}

func (s *Service) serve(ctx context.Context, ss *session) (int, error) {
	typ, payload, err := ss.read(MaxFrame)
	if err != nil {
		return 0, fmt.Errorf("read hello: %w", err)
	}
	if typ != fHello {
		return 0, fmt.Errorf("%w: frame %d instead of hello", errProtocol, typ)
	}
	h, err := parseHello(payload)
	if err != nil {
		return 0, err
	}
	if h.version != protocolVersion {
		return 0, fmt.Errorf("%w: version %d", errProtocol, h.version)
	}
	if h.digest == s.r.Digest() {
		if err := ss.write(fInSync, nil); err != nil {
			return 0, err
		}
		return 0, ss.flush()
	}
	if err := ss.write(fDiffer, nil); err != nil {
		return 0, err
	}
	if err := ss.flush(); err != nil {
		return 0, err
	}
	asked := make(map[string]uint64)
	for {
		typ, payload, err := ss.read(MaxFrame)
		if err != nil {
			return 0, fmt.Errorf("read marks: %w", err)
		}
		if typ == fMarksEnd {
			break
		}
		if typ != fMarks {
			return 0, fmt.Errorf("%w: frame %d among marks", errProtocol, typ)
		}
		if err := parseMarks(payload, func(m mark) error {
			if len(asked) >= s.opts.MaxPublishers {
				return fmt.Errorf("%w: more than %d marks", errProtocol, s.opts.MaxPublishers)
			}
			asked[m.publisher] = m.seq
			return nil
		}); err != nil {
			return 0, err
		}
	}

	budget := int(min(h.budget, uint64(s.opts.MaxEntriesPerSession)))
	sent := 0
	errBudget := errors.New("budget spent")
	for _, ps := range s.r.Publishers() {
		if sent >= budget {
			break
		}
		after := asked[ps.Publisher]
		if ps.MaxSeq <= after {
			continue
		}
		if err := ss.write(fSection, []byte(ps.Publisher)); err != nil {
			return sent, err
		}
		var last uint64
		err := s.r.Since(ctx, ps.Publisher, after, func(e *schema.Entry) error {
			if sent >= budget {
				return errBudget
			}
			if err := ss.write(fEntry, e.Marshal()); err != nil {
				return err
			}
			sent++
			last = e.Seq
			return nil
		})
		if err != nil && !errors.Is(err, errBudget) {
			return sent, err
		}
		// Vouch only for what was sent: if the budget cut this publisher
		// short, everything above last is still to come.
		m := min(ps.Mark, last)
		if err := ss.write(fSectionEnd, binaryUvarint(m)); err != nil {
			return sent, err
		}
	}
	if err := ss.write(fDone, nil); err != nil {
		return sent, err
	}
	return sent, ss.flush()
}

func binaryUvarint(v uint64) []byte {
	return appendUvarint(nil, v)
}
