package federation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/federation/stream"
)

// SignalProtocol carries call signaling between two nodes: one stream per
// call (or per query), a sequence of frames (federation/stream) each way. The
// federation only moves frames; the node decides what they mean.
const SignalProtocol = "/difronte/signal/1"

// MaxSignalFrame bounds one frame: an SDP offer with audio and video is
// 3-8 KB; 64 KiB leaves room and stops a peer from making us allocate more.
const MaxSignalFrame = 64 << 10

// ErrRateLimited ends a stream whose peer asks more than SignalLimits
// allow; an oversized frame ends it with stream.ErrFrameTooLarge.
var ErrRateLimited = errors.New("signal rate limit exceeded")

// SignalLimits bound what one peer may ask of this node. Zero values mean
// the defaults below.
type SignalLimits struct {
	StreamsPerSecond float64       // new streams per peer per second (default 20)
	StreamBurst      int           // default 400: a relay node sets up many calls at once
	MaxStreams       int           // open streams per peer (default 500)
	FramesPerSecond  float64       // frames per stream per second (default 50: trickled candidates)
	FrameBurst       int           // default 200
	Idle             time.Duration // longest wait for the next frame (default 2 min)
	WriteTimeout     time.Duration // default 10 s
}

func (l *SignalLimits) defaults() {
	if l.StreamsPerSecond == 0 {
		l.StreamsPerSecond = 20
	}
	if l.StreamBurst == 0 {
		l.StreamBurst = 400
	}
	if l.MaxStreams == 0 {
		l.MaxStreams = 500
	}
	if l.FramesPerSecond == 0 {
		l.FramesPerSecond = 50
	}
	if l.FrameBurst == 0 {
		l.FrameBurst = 200
	}
	if l.Idle == 0 {
		l.Idle = 2 * time.Minute
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = 10 * time.Second
	}
}

// Signal serves and opens signal streams on a libp2p host.
type Signal struct {
	h      host.Host
	lim    SignalLimits
	handle func(*SignalConn)
	// OnRefused, if set, hears of streams refused by the limits, to audit.
	onRefused func(peer string, reason error)

	mu     sync.Mutex
	peers  map[peer.ID]*peerBudget
	wg     sync.WaitGroup
	closed bool
}

type peerBudget struct {
	streams *rate.Limiter
	open    int
}

// NewSignal registers the signal protocol on h; handle runs on its own
// goroutine for every accepted stream and owns it. onRefused may be nil.
func NewSignal(h host.Host, lim SignalLimits, handle func(*SignalConn), onRefused func(peer string, reason error)) *Signal {
	lim.defaults()
	s := &Signal{h: h, lim: lim, handle: handle, onRefused: onRefused, peers: map[peer.ID]*peerBudget{}}
	h.SetStreamHandler(SignalProtocol, s.accept)
	return s
}

// admit charges a new stream to its peer's budget. Streams this node opens
// count against the open-stream cap only: the rate limits guard against
// other nodes, and local users are rate limited where they come in.
func (s *Signal) admit(p peer.ID, inbound bool) (budget.Reason, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("signal closed")
	}
	b := s.peers[p]
	if b == nil {
		b = &peerBudget{streams: rate.NewLimiter(rate.Limit(s.lim.StreamsPerSecond), s.lim.StreamBurst)}
		s.peers[p] = b
	}
	if b.open >= s.lim.MaxStreams {
		return budget.Streams, fmt.Errorf("%w: %d open streams", ErrRateLimited, b.open)
	}
	if inbound && !b.streams.Allow() {
		return budget.Sessions, fmt.Errorf("%w: new streams", ErrRateLimited)
	}
	b.open++
	s.wg.Add(1)
	return "", nil
}

func (s *Signal) release(p peer.ID) {
	s.mu.Lock()
	if b := s.peers[p]; b != nil {
		b.open--
		if b.open == 0 && b.streams.Tokens() >= float64(s.lim.StreamBurst) {
			delete(s.peers, p) // a full bucket carries no memory worth keeping
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Signal) accept(st network.Stream) {
	p := st.Conn().RemotePeer()
	if why, err := s.admit(p, true); err != nil {
		st.Reset()
		if g, ok := s.h.(*budgetedHost); ok && why != "" {
			g.metrics.streamRefused(SignalProtocol, string(why))
		}
		if s.onRefused != nil {
			s.onRefused(p.String(), err)
		}
		return
	}
	c := s.conn(st, p)
	defer s.release(p)
	defer c.Close()
	s.handle(c)
}

func (s *Signal) conn(st network.Stream, p peer.ID) *SignalConn {
	return &SignalConn{st: st, peer: p, lim: s.lim, frames: rate.NewLimiter(rate.Limit(s.lim.FramesPerSecond), s.lim.FrameBurst)}
}

// Open opens a signal stream to the node with the given peer id.
func (s *Signal) Open(ctx context.Context, to string) (*SignalConn, error) {
	p, err := peer.Decode(to)
	if err != nil {
		return nil, fmt.Errorf("peer id %q: %w", to, err)
	}
	if _, err := s.admit(p, false); err != nil {
		return nil, err
	}
	st, err := s.h.NewStream(ctx, p, SignalProtocol)
	if err != nil {
		s.release(p)
		return nil, fmt.Errorf("open signal stream to %s: %w", p, err)
	}
	c := s.conn(st, p)
	c.done = func() { s.release(p) }
	return c, nil
}

// Close stops accepting streams and waits for the handlers to return; the
// caller closes the streams it opened.
func (s *Signal) Close() {
	s.h.RemoveStreamHandler(SignalProtocol)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// SignalConn is one signal stream: frames in, frames out.
type SignalConn struct {
	st     network.Stream
	peer   peer.ID
	lim    SignalLimits
	frames *rate.Limiter
	wmu    sync.Mutex
	once   sync.Once
	done   func()
}

// Peer is the authenticated peer id of the other node.
func (c *SignalConn) Peer() string { return c.peer.String() }

// Read returns the next frame. A frame larger than MaxSignalFrame, a peer
// sending faster than the limits, or silence longer than Idle end the
// stream with an error.
func (c *SignalConn) Read() ([]byte, error) {
	_ = c.st.SetReadDeadline(clock.Deadline(c.lim.Idle))
	b, err := stream.ReadFrame(c.st, MaxSignalFrame)
	if err != nil {
		return nil, err
	}
	if !c.frames.Allow() {
		return nil, ErrRateLimited
	}
	return b, nil
}

// Write sends one frame; safe for concurrent use.
func (c *SignalConn) Write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.st.SetWriteDeadline(clock.Deadline(c.lim.WriteTimeout))
	return stream.WriteFrame(c.st, b, MaxSignalFrame)
}

// Close ends the stream both ways; idempotent.
func (c *SignalConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.st.Close()
		if c.done != nil {
			c.done()
		}
	})
	return err
}

// Reset aborts the stream (a misbehaving peer); idempotent with Close.
func (c *SignalConn) Reset() {
	c.once.Do(func() {
		_ = c.st.Reset()
		if c.done != nil {
			c.done()
		}
	})
}

// AddSignalLimits raises the resource manager's stream limits for the
// signal protocol: the defaults (64 inbound streams per peer and protocol)
// would cap the calls one coop's node can place to another at once.
// SignalLimits still bound what a peer may do.
func AddSignalLimits(cfg *rcmgr.ScalingLimitConfig) {
	l := rcmgr.BaseLimit{StreamsInbound: 512, StreamsOutbound: 512, Streams: 1024, Memory: 16 << 20}
	inc := rcmgr.BaseLimitIncrease{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 8 << 20}
	cfg.AddProtocolLimit(SignalProtocol, rcmgr.BaseLimit{StreamsInbound: 2048, StreamsOutbound: 2048, Streams: 4096, Memory: 64 << 20}, inc)
	cfg.AddProtocolPeerLimit(SignalProtocol, l, inc)
}
