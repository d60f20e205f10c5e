package calls

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// Socket timings: a ping every pingEvery keeps NATs and proxies from
// dropping an idle terminal; helloWait bounds an unauthenticated socket.
const (
	pingEvery  = 25 * time.Second
	helloWait  = 10 * time.Second
	writeWait  = 10 * time.Second
	maxBadMsgs = 20
)

// wsConn is a WebSocket endpoint: messages queue to one writer goroutine.
type wsConn struct {
	c    *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func newWS(c *websocket.Conn, wg *sync.WaitGroup, clk clock.Clock) *wsConn {
	w := &wsConn{c: c, out: make(chan []byte, 128), done: make(chan struct{})}
	wg.Add(1)
	go w.writer(wg, clk.NewTicker(pingEvery))
	return w
}

func (w *wsConn) writer(wg *sync.WaitGroup, ping clock.Ticker) {
	defer wg.Done()
	defer ping.Stop()
	for {
		select {
		case b := <-w.out:
			ctx, cancel := context.WithTimeout(context.Background(), writeWait)
			err := w.c.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				w.Close("write_failed")
				return
			}
		case <-ping.C():
			ctx, cancel := context.WithTimeout(context.Background(), writeWait)
			err := w.c.Ping(ctx)
			cancel()
			if err != nil {
				w.Close("ping_failed")
				return
			}
		case <-w.done:
			return
		}
	}
}

func (w *wsConn) Send(m Msg) bool {
	select {
	case <-w.done:
		return false
	default:
	}
	select {
	case w.out <- encodeMsg(m):
		return true
	default:
		w.Close("too_slow")
		return false
	}
}

func (w *wsConn) Close(reason string) {
	w.once.Do(func() {
		close(w.done)
		code := websocket.StatusNormalClosure
		switch reason {
		case "rate_limited", "too_many_bad_messages":
			code = websocket.StatusPolicyViolation
		case ErrDeviceRevoked.Code, ErrDeviceUnknown.Code:
			code = 4001 // the terminal page stops reconnecting and asks for pairing
		}
		// Close waits for the peer's close frame for up to 5 s; never hold
		// the hub for that.
		go w.c.Close(code, reason)
	})
}

// accept upgrades after clearing the HTTP server's deadlines, which would
// otherwise cut a long-lived socket.
func accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil) // same-origin only (Origin checked)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(MaxMsg)
	return c, nil
}

// reader reads and decodes messages with a rate limit; flood and repeated
// garbage end the socket, and each refusal is audited.
type reader struct {
	s     *Service
	ws    *wsConn
	lim   *rate.Limiter
	bad   int
	actor string
}

func (s *Service) newReader(ws *wsConn, actor string) *reader {
	return &reader{s: s, ws: ws, lim: rate.NewLimiter(rate.Limit(s.cfg.WSRate), s.cfg.WSBurst), actor: actor}
}

func (rd *reader) next(ctx context.Context) (Msg, error) {
	for {
		_, b, err := rd.ws.c.Read(ctx)
		if err != nil {
			return Msg{}, err
		}
		if !rd.lim.Allow() {
			rd.s.cfg.Audit.Note(audit.Event{Actor: rd.actor, Action: audit.Denied, Kind: "signal", Detail: "rate_limited"})
			rd.ws.Send(Msg{Type: TypeError, Reason: "rate_limited"})
			rd.ws.Close("rate_limited")
			return Msg{}, errors.New("rate limited")
		}
		m, err := DecodeMsg(b)
		if err != nil {
			rd.bad++
			rd.s.cfg.Audit.Note(audit.Event{Actor: rd.actor, Action: audit.Denied, Kind: "signal", Detail: reason(err)})
			rd.ws.Send(Msg{Type: TypeError, Reason: reason(err)})
			if rd.bad > maxBadMsgs {
				rd.ws.Close("too_many_bad_messages")
				return Msg{}, errors.New("too many bad messages")
			}
			continue
		}
		return m, nil
	}
}

// ServeCaregiver is the caregiver's signaling socket (/ws/calls).
func (s *Service) ServeCaregiver(w http.ResponseWriter, r *http.Request) {
	a, ok := httpx.Actor(r)
	if !ok {
		httpx.WriteError(w, r, problem.ErrUnauthorized, s.log)
		return
	}
	if a.Role != auth.Caregiver || a.CaregiverID == "" {
		httpx.WriteError(w, r, s.deny(r.Context(), a, "call", "", "socket"), s.log)
		return
	}
	c, err := accept(w, r)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ws := newWS(c, &wg, s.cfg.Clock)
	defer ws.Close("bye")
	s.hub.AttachCaregiver(ws, a.CaregiverID)
	defer s.hub.DetachCaregiver(ws)
	name := a.Username
	if cg, ok := s.cfg.Dir.Caregiver(a.CaregiverID); ok {
		name = cg.Name
	}
	ws.Send(Msg{Type: TypeHello, ICE: s.iceServers(a.Username)})

	var rmu sync.Mutex
	relays := map[string]*relay{}
	defer func() {
		rmu.Lock()
		for _, rl := range relays {
			rl.forward(Msg{Type: TypeHangup, Call: rl.id, Reason: "caller_gone"})
			rl.st.Reset()
		}
		rmu.Unlock()
	}()
	gone := func(id string) { rmu.Lock(); delete(relays, id); rmu.Unlock() }
	rd := s.newReader(ws, a.Username)
	ctx := r.Context()
	for {
		m, err := rd.next(ctx)
		if err != nil {
			return
		}
		switch m.Type {
		case TypeCall:
			if m.Node == "" || m.Node == s.cfg.PeerID {
				s.placeLocal(ctx, a, ws, m, name)
				continue
			}
			rmu.Lock()
			dup := relays[m.Call] != nil
			rmu.Unlock()
			if dup {
				ws.Send(Msg{Type: TypeRefused, Call: m.Call, Reason: ErrDuplicateID.Error()})
				continue
			}
			rl, err := s.placeRemote(ctx, a, ws, m, name, &wg, gone)
			if err != nil {
				_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "call", m.Call, err.Error()))
				ws.Send(Msg{Type: TypeRefused, Call: m.Call, Reason: err.Error()})
				continue
			}
			rmu.Lock()
			relays[m.Call] = rl
			rmu.Unlock()
		case TypeOffer, TypeCandidate, TypeHangup:
			rmu.Lock()
			rl := relays[m.Call]
			rmu.Unlock()
			if rl != nil {
				_ = rl.forward(m)
				continue
			}
			s.hub.FromCaller(ws, m)
		default:
			ws.Send(Msg{Type: TypeError, Call: m.Call, Reason: "unexpected_" + m.Type})
		}
	}
}

func (s *Service) placeLocal(ctx context.Context, a auth.Actor, ws *wsConn, m Msg, name string) {
	b, ok := s.cfg.Dir.Beneficiary(m.Beneficiary)
	err := ErrNotAllowed
	if ok && s.mayCall(a.CaregiverID, b) {
		err = s.hub.StartCall(m.Call, m.Beneficiary, ws, a.CaregiverID, name, "")
	}
	if err != nil {
		_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "call", m.Call, err.Error()))
		ws.Send(Msg{Type: TypeRefused, Call: m.Call, Reason: err.Error()})
	}
}

// mayCall: the beneficiary's assigned caregivers, or the caregiver a
// schedule names.
func (s *Service) mayCall(caregiver string, b Person) bool {
	for _, c := range b.Caregivers {
		if c == caregiver {
			return true
		}
	}
	return len(s.schedules.Filter(func(sc *Schedule) bool {
		return !sc.Archived && sc.Beneficiary == b.ID && sc.Caregiver == caregiver
	})) > 0
}

// ServeTerminal is the terminal's socket (/ws/terminal): the first message
// is a hello with the device credential; a revoked or unknown one is refused
// with a reason the page understands.
func (s *Service) ServeTerminal(w http.ResponseWriter, r *http.Request) {
	c, err := accept(w, r)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ws := newWS(c, &wg, s.cfg.Clock)
	defer ws.Close("bye")
	ctx := r.Context()
	hctx, cancel := context.WithTimeout(ctx, helloWait)
	rd := s.newReader(ws, "terminal")
	m, err := rd.next(hctx)
	cancel()
	if err != nil {
		return
	}
	if m.Type != TypeHello {
		ws.Send(Msg{Type: TypeError, Reason: "hello_first"})
		return
	}
	d, err := s.Device(m.Credential)
	var ben string
	if err == nil {
		var ok bool
		if ben, ok = s.cfg.Dir.TerminalBeneficiary(d.Terminal); !ok {
			err = ErrDeviceUnknown
		}
	}
	if err != nil {
		p := problem.As(err)
		s.cfg.Audit.Note(audit.Event{Actor: "terminal", Action: audit.Denied, Kind: "device", Remote: httpx.RemoteIP(r), Detail: p.Code})
		ws.Send(Msg{Type: TypeError, Reason: p.Code})
		ws.Close(p.Code)
		return
	}
	rd.actor = "terminal:" + d.ID
	t := &Terminal{Endpoint: ws, Device: d.ID, TerminalID: d.Terminal, Beneficiary: ben}
	st := s.Settings(ben)
	ws.Send(Msg{Type: TypeHello, ICE: s.iceServers("terminal:" + d.ID), Info: &TerminalInfo{Name: st.DisplayName, Countdown: st.Countdown, Next: s.nextCall(ben)}})
	s.hub.AttachTerminal(t)
	defer s.hub.DetachTerminal(t, "gone")
	for {
		m, err := rd.next(ctx)
		if err != nil {
			return
		}
		s.hub.FromTerminal(t, m)
	}
}
