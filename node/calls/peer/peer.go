package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/difronte/difronte/node/calls"
)

// Config says how to reach the node and who this peer is.
type Config struct {
	URL        string // ws://host:port/ws/calls (caregiver) or /ws/terminal
	Token      string // caregiver: session bearer token
	Credential string // terminal: device credential
	// Loopback keeps ICE on 127.0.0.1 only (tests).
	Loopback bool
	// API builds peer connections; nil: one from the settings above.
	API *webrtc.API
	// Receive adds a receive-only transceiver of each kind to the offers
	// of Call, as a browser caller's audio and video would: the terminal
	// then answers with media (see Session.MediaBytes).
	Receive []webrtc.RTPCodecType
}

// Peer is a connected signaling socket.
type Peer struct {
	cfg   Config
	c     *websocket.Conn
	api   *webrtc.API
	Hello calls.Msg

	mu      sync.Mutex
	byCall  map[string]chan calls.Msg
	rings   chan calls.Msg
	others  chan calls.Msg
	wmu     sync.Mutex
	done    chan struct{}
	readErr error
	wg      sync.WaitGroup
}

// NewAPI returns a pion API; loopback restricts ICE to 127.0.0.1 without mDNS.
func NewAPI(loopback bool) *webrtc.API {
	var se webrtc.SettingEngine
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// Dial connects to the node and waits for its hello.
func Dial(ctx context.Context, cfg Config) (*Peer, error) {
	h := http.Header{}
	if cfg.Token != "" {
		h.Set("Authorization", "Bearer "+cfg.Token)
	}
	c, _, err := websocket.Dial(ctx, cfg.URL, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.URL, err)
	}
	c.SetReadLimit(calls.MaxMsg)
	p := &Peer{cfg: cfg, c: c, api: cfg.API, byCall: map[string]chan calls.Msg{}, rings: make(chan calls.Msg, 16), others: make(chan calls.Msg, 64), done: make(chan struct{})}
	if p.api == nil {
		p.api = NewAPI(cfg.Loopback)
	}
	if cfg.Credential != "" {
		if err := p.send(ctx, calls.Msg{Type: calls.TypeHello, Credential: cfg.Credential}); err != nil {
			c.CloseNow()
			return nil, err
		}
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("read hello: %w", err)
	}
	m, err := calls.DecodeMsg(b)
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	if m.Type != calls.TypeHello {
		c.CloseNow()
		return nil, fmt.Errorf("refused: %s", m.Reason)
	}
	p.Hello = m
	p.wg.Add(1)
	go p.read()
	return p, nil
}

func (p *Peer) read() {
	defer p.wg.Done()
	defer close(p.done)
	for {
		_, b, err := p.c.Read(context.Background())
		if err != nil {
			p.mu.Lock()
			p.readErr = err
			p.mu.Unlock()
			return
		}
		m, err := calls.DecodeMsg(b)
		if err != nil {
			continue
		}
		switch {
		case m.Type == calls.TypeRing:
			select {
			case p.rings <- m:
			default:
			}
			continue
		case m.Call != "":
			p.mu.Lock()
			ch := p.byCall[m.Call]
			p.mu.Unlock()
			if ch != nil {
				select {
				case ch <- m:
				default:
				}
				continue
			}
		}
		select {
		case p.others <- m:
		default:
		}
	}
}

// Others yields messages that belong to no call (errors, requests).
func (p *Peer) Others() <-chan calls.Msg { return p.others }

// Done is closed when the socket ends.
func (p *Peer) Done() <-chan struct{} { return p.done }

func (p *Peer) send(ctx context.Context, m calls.Msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.c.Write(ctx, websocket.MessageText, b)
}

// SendRaw writes any bytes (bad-input tests).
func (p *Peer) SendRaw(ctx context.Context, b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.c.Write(ctx, websocket.MessageText, b)
}

// Send writes one message.
func (p *Peer) Send(ctx context.Context, m calls.Msg) error { return p.send(ctx, m) }

// Close ends the socket and waits for the reader.
func (p *Peer) Close() error {
	err := p.c.Close(websocket.StatusNormalClosure, "bye")
	if err != nil {
		p.c.CloseNow()
	}
	p.wg.Wait()
	return nil
}

func (p *Peer) subscribe(id string) chan calls.Msg {
	ch := make(chan calls.Msg, 256)
	p.mu.Lock()
	p.byCall[id] = ch
	p.mu.Unlock()
	return ch
}

func (p *Peer) unsubscribe(id string) {
	p.mu.Lock()
	delete(p.byCall, id)
	p.mu.Unlock()
}

// Session is one live call.
type Session struct {
	ID string
	PC *webrtc.PeerConnection
	DC *webrtc.DataChannel
	// Recv yields data-channel messages of the other side.
	Recv <-chan []byte
	// Ended yields the hang-up the node relayed (reason), once.
	Ended <-chan string

	p      *Peer
	ms     chan calls.Msg
	ended  chan string
	once   sync.Once
	stopWg sync.WaitGroup
	stop   chan struct{}
	// media counts RTP bytes of the remote tracks; drains are their
	// readers, which end when the connection closes.
	media  atomic.Int64
	dmu    sync.Mutex
	drains sync.WaitGroup
}

// RefusedError is a call the node refused, with its reason.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "call refused: " + e.Reason }

func newCallID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (p *Peer) iceConfig() webrtc.Configuration {
	var cfg webrtc.Configuration
	for _, s := range p.Hello.ICE {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return cfg
}

func (p *Peer) newSession(id string, ms chan calls.Msg) (*Session, error) {
	pc, err := p.api.NewPeerConnection(p.iceConfig())
	if err != nil {
		return nil, err
	}
	s := &Session{ID: id, PC: pc, p: p, ms: ms, ended: make(chan string, 1), stop: make(chan struct{})}
	s.Ended = s.ended
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { s.drain(t) })
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		b, _ := json.Marshal(c.ToJSON())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.send(ctx, calls.Msg{Type: calls.TypeCandidate, Call: id, Candidate: b})
	})
	return s, nil
}

// pump applies remote candidates and notices the hang-up, after setup.
func (s *Session) pump(pending []calls.Msg) {
	s.stopWg.Add(1)
	go func() {
		defer s.stopWg.Done()
		handle := func(m calls.Msg) bool {
			switch m.Type {
			case calls.TypeCandidate:
				var c webrtc.ICECandidateInit
				if json.Unmarshal(m.Candidate, &c) == nil && c.Candidate != "" {
					_ = s.PC.AddICECandidate(c)
				}
			case calls.TypeHangup:
				s.ended <- m.Reason
				return false
			}
			return true
		}
		for _, m := range pending {
			if !handle(m) {
				return
			}
		}
		for {
			select {
			case m := <-s.ms:
				if !handle(m) {
					return
				}
			case <-s.stop:
				return
			case <-s.p.done:
				s.ended <- "socket_closed"
				return
			}
		}
	}()
}

func (s *Session) attachDC(dc *webrtc.DataChannel, open chan struct{}) chan []byte {
	recv := make(chan []byte, 64)
	s.DC = dc
	dc.OnOpen(func() { close(open) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case recv <- m.Data:
		default:
		}
	})
	return recv
}

// Hangup ends the call through the node and closes the peer connection.
func (s *Session) Hangup(ctx context.Context) error {
	err := s.p.send(ctx, calls.Msg{Type: calls.TypeHangup, Call: s.ID})
	s.Close()
	return err
}

// Close frees the session without telling the node.
func (s *Session) Close() {
	s.once.Do(func() {
		s.dmu.Lock()
		close(s.stop)
		s.dmu.Unlock()
		s.stopWg.Wait()
		s.p.unsubscribe(s.ID)
		_ = s.PC.Close()
		s.drains.Wait()
	})
}

// Call places a call and returns once the data channel to the terminal is
// open (media path established).
func (p *Peer) Call(ctx context.Context, beneficiary, node string) (*Session, error) {
	id := newCallID()
	ms := p.subscribe(id)
	fail := func(err error) (*Session, error) { p.unsubscribe(id); return nil, err }
	if err := p.send(ctx, calls.Msg{Type: calls.TypeCall, Call: id, Beneficiary: beneficiary, Node: node}); err != nil {
		return fail(err)
	}
	for accepted := false; !accepted; {
		select {
		case m := <-ms:
			switch m.Type {
			case calls.TypeAccepted:
				accepted = true
			case calls.TypeRefused, calls.TypeHangup, calls.TypeError:
				return fail(&RefusedError{Reason: m.Reason})
			}
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-p.done:
			return fail(errors.New("socket closed"))
		}
	}
	s, err := p.newSession(id, ms)
	if err != nil {
		return fail(err)
	}
	for _, k := range p.cfg.Receive {
		if _, err := s.PC.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			s.Close()
			return nil, err
		}
	}
	dc, err := s.PC.CreateDataChannel("check", nil)
	if err != nil {
		s.Close()
		return nil, err
	}
	open := make(chan struct{})
	s.Recv = s.attachDC(dc, open)
	offer, err := s.PC.CreateOffer(nil)
	if err == nil {
		err = s.PC.SetLocalDescription(offer)
	}
	if err == nil {
		err = p.send(ctx, calls.Msg{Type: calls.TypeOffer, Call: id, SDP: offer.SDP})
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	pending, err := s.await(ctx, calls.TypeAnswer, func(m calls.Msg) error {
		return s.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.pump(pending)
	select {
	case <-open:
		return s, nil
	case r := <-s.Ended:
		s.Close()
		return nil, &RefusedError{Reason: r}
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// Ring is an incoming call on a terminal.
type Ring struct {
	calls.Msg
}

// NextRing waits for the next incoming call.
func (p *Peer) NextRing(ctx context.Context) (calls.Msg, error) {
	select {
	case m := <-p.rings:
		return m, nil
	case <-ctx.Done():
		return calls.Msg{}, ctx.Err()
	case <-p.done:
		return calls.Msg{}, errors.New("socket closed")
	}
}

// Answer accepts a ring (the countdown is the caller's business) and
// returns once the data channel is open.
func (p *Peer) Answer(ctx context.Context, ring calls.Msg) (*Session, error) {
	open := make(chan struct{})
	recv := make(chan chan []byte, 1)
	s, err := p.accept(ctx, ring, nil, func(s *Session) {
		s.PC.OnDataChannel(func(dc *webrtc.DataChannel) { recv <- s.attachDC(dc, open) })
	})
	if err != nil {
		return nil, err
	}
	select {
	case r := <-recv:
		s.Recv = r
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
	select {
	case <-open:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// accept sends the accept for ring, opens the session, lets setup attach
// its handlers, then answers the caller's offer with tracks (see
// answerOffer) and returns with the messages that came meanwhile pumped.
func (p *Peer) accept(ctx context.Context, ring calls.Msg, tracks []webrtc.TrackLocal, setup func(*Session)) (*Session, error) {
	id := ring.Call
	ms := p.subscribe(id)
	if err := p.send(ctx, calls.Msg{Type: calls.TypeAccept, Call: id}); err != nil {
		p.unsubscribe(id)
		return nil, err
	}
	s, err := p.newSession(id, ms)
	if err != nil {
		p.unsubscribe(id)
		return nil, err
	}
	setup(s)
	pending, err := s.await(ctx, calls.TypeOffer, func(m calls.Msg) error { return s.answerOffer(ctx, m.SDP, tracks) })
	if err != nil {
		s.Close()
		return nil, err
	}
	s.pump(pending)
	return s, nil
}

// await waits for the call's message of type want and applies it with
// apply. The messages that come first (early ICE candidates) are returned
// for pump; a hang-up or an error from the other side ends the wait with a
// RefusedError, as do ctx and the socket closing.
func (s *Session) await(ctx context.Context, want string, apply func(calls.Msg) error) ([]calls.Msg, error) {
	var pending []calls.Msg
	for {
		select {
		case m := <-s.ms:
			switch m.Type {
			case want:
				return pending, apply(m)
			case calls.TypeHangup, calls.TypeError:
				return nil, &RefusedError{Reason: m.Reason}
			default:
				pending = append(pending, m)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.p.done:
			return nil, errors.New("socket closed")
		}
	}
}
