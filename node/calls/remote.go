package calls

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

// Stream is a signal stream to or from another node (federation.SignalConn).
type Stream interface {
	Read() ([]byte, error)
	Write([]byte) error
	Close() error
	Reset()
	Peer() string
}

// Remote opens signal streams to other nodes.
type Remote interface {
	Open(ctx context.Context, peer string) (Stream, error)
}

// streamEndpoint is a remote caller as the hub sees it: messages queue to a
// writer goroutine so the hub never blocks on the network.
type streamEndpoint struct {
	st   Stream
	out  chan Msg
	done chan struct{}
	once sync.Once
}

func newStreamEndpoint(st Stream, wg *sync.WaitGroup) *streamEndpoint {
	e := &streamEndpoint{st: st, out: make(chan Msg, 64), done: make(chan struct{})}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-e.out:
				if e.st.Write(encodeMsg(m)) != nil {
					e.Close("write_failed")
					return
				}
				if m.Type == TypeHangup || m.Type == TypeRefused {
					// The call is over: the stream has nothing more to carry.
					e.Close(m.Reason)
					return
				}
			case <-e.done:
				return
			}
		}
	}()
	return e
}

func (e *streamEndpoint) Send(m Msg) bool {
	select {
	case <-e.done:
		return false
	default:
	}
	select {
	case e.out <- m:
		return true
	default:
		e.Close("too_slow")
		return false
	}
}

func (e *streamEndpoint) Close(string) {
	e.once.Do(func() {
		close(e.done)
		_ = e.st.Close()
	})
}

// ServeStream answers one signal stream from another node: a call under a
// grant, an agenda query, or a grant delivery. It owns st.
func (s *Service) ServeStream(st Stream) {
	defer st.Close()
	peer := st.Peer()
	b, err := st.Read()
	if err != nil {
		return
	}
	m, err := DecodeMsg(b)
	if err != nil {
		s.refuseRemote(st, peer, "", reason(err))
		return
	}
	switch m.Type {
	case TypeCall:
		s.serveRemoteCall(st, peer, m)
	case TypeAgenda:
		g, err := s.checkGrant(m.Grant, peer, m.Caregiver)
		if err != nil {
			s.refuseRemote(st, peer, "", err.Error())
			return
		}
		now := s.now()
		ss := s.schedules.Filter(func(sc *Schedule) bool {
			return !sc.Archived && sc.Beneficiary == g.Beneficiary && sc.Caregiver == fmtRef(peer, g.Caregiver)
		})
		occ := Agenda(ss, now.Add(-12*time.Hour), now.AddDate(0, 0, 14))
		// Only times: the schedule ids and the beneficiary's id stay here.
		for i := range occ {
			occ[i].Schedule, occ[i].Caregiver = "", ""
		}
		_ = st.Write(encodeMsg(Msg{Type: TypeAgenda, From: s.Settings(g.Beneficiary).DisplayName, Beneficiary: g.Beneficiary, Agenda: occ}))
	case TypeFine, TypeRequest:
		// A terminal of the issuing node pressed a button: tell the
		// granted caregiver here, if the sender really issued that grant.
		ok := false
		for _, h := range s.HeldGrants(m.Caregiver) {
			ok = ok || (h.Issuer == peer && h.Beneficiary == m.Beneficiary)
		}
		if !ok {
			s.refuseRemote(st, peer, "", ErrNoGrant.Error())
			return
		}
		s.hub.NotifyCaregiver(m.Caregiver, Msg{Type: m.Type, Beneficiary: m.Beneficiary, Node: peer})
		_ = st.Write(encodeMsg(Msg{Type: TypeOK}))
	case TypeGrant:
		if _, err := s.importGrant(context.Background(), auth.Actor{Username: auth.SystemUser, Remote: peer}, m.Grant); err != nil {
			s.refuseRemote(st, peer, "", "grant_invalid")
			return
		}
		_ = st.Write(encodeMsg(Msg{Type: TypeOK}))
	default:
		s.refuseRemote(st, peer, "", "unexpected_"+m.Type)
	}
}

func (s *Service) refuseRemote(st Stream, peer, call, why string) {
	s.cfg.Audit.Note(audit.Event{Actor: "node:" + peer, Action: audit.Denied, Kind: "call", Object: call, Detail: why})
	_ = st.Write(encodeMsg(Msg{Type: TypeRefused, Call: call, Reason: why}))
}

func (s *Service) serveRemoteCall(st Stream, peer string, m Msg) {
	g, err := s.checkGrant(m.Grant, peer, m.Caregiver)
	if err == nil && g.Beneficiary != m.Beneficiary {
		err = ErrNoGrant
	}
	if err != nil {
		code := err.Error()
		for _, e := range []error{ErrNoGrant, ErrGrantExpired, ErrGrantRevoked, ErrGrantBad} {
			if errors.Is(err, e) {
				code = e.Error()
			}
		}
		s.refuseRemote(st, peer, m.Call, code)
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ep := newStreamEndpoint(st, &wg)
	defer ep.Close("done")
	name := g.Name
	if name == "" {
		name = m.From
	}
	if err := s.hub.StartCall(m.Call, g.Beneficiary, ep, fmtRef(peer, g.Caregiver), name, g.ID); err != nil {
		// Written here, not queued on ep: the deferred Close could stop
		// ep's writer before it sends, and the caller would hear only
		// that the stream ended.
		s.refuseRemote(st, peer, m.Call, err.Error())
		return
	}
	for {
		b, err := st.Read()
		if err != nil {
			break
		}
		m, err := DecodeMsg(b)
		if err != nil {
			s.cfg.Audit.Note(audit.Event{Actor: "node:" + peer, Action: audit.Denied, Kind: "call", Detail: reason(err)})
			ep.Send(Msg{Type: TypeError, Reason: reason(err)})
			continue
		}
		s.hub.FromCaller(ep, m)
	}
	s.hub.CallerGone(ep)
}

// relay carries one call of a local caregiver to the beneficiary's node.
type relay struct {
	id string
	st Stream
}

// placeRemote opens a signal stream to the beneficiary's node and pipes the
// call's messages both ways until either side ends it.
func (s *Service) placeRemote(ctx context.Context, a auth.Actor, ws Endpoint, m Msg, from string, wg *sync.WaitGroup, gone func(id string)) (*relay, error) {
	hg, ok := s.heldFor(a.CaregiverID, m.Node, m.Beneficiary)
	if !ok {
		return nil, ErrNoGrant
	}
	if s.cfg.Remote == nil {
		return nil, errors.New("no_federation")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := s.cfg.Remote.Open(ctx, m.Node)
	if err != nil {
		return nil, errors.New("node_unreachable")
	}
	if err := st.Write(encodeMsg(Msg{Type: TypeCall, Call: m.Call, Beneficiary: m.Beneficiary, Grant: hg.Token, Caregiver: a.CaregiverID, From: from})); err != nil {
		st.Reset()
		return nil, errors.New("node_unreachable")
	}
	r := &relay{id: m.Call, st: st}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer gone(r.id)
		defer st.Close()
		for {
			b, err := st.Read()
			if err != nil {
				ws.Send(Msg{Type: TypeHangup, Call: r.id, Reason: "node_gone"})
				return
			}
			rm, err := DecodeMsg(b)
			if err != nil || (rm.Call != "" && rm.Call != r.id) {
				continue // the other node is trusted less than that
			}
			if rm.Call == "" {
				rm.Call = r.id
			}
			ws.Send(rm)
			if rm.Type == TypeAccepted {
				// The call is owned by the other node; this node keeps
				// only that it happened, so its caregiver can send the
				// outcome there.
				s.emit(Event{Type: EventAnswered, Call: r.id, Beneficiary: m.Beneficiary, Caregiver: a.CaregiverID, Node: m.Node, Name: hg.DisplayName})
			}
			if rm.Type == TypeHangup || rm.Type == TypeRefused {
				return
			}
		}
	}()
	return r, nil
}

func (r *relay) forward(m Msg) error {
	err := r.st.Write(encodeMsg(m))
	if m.Type == TypeHangup {
		r.st.Close()
	}
	return err
}

// AgendaItem is one expected call in a caregiver's agenda.
type AgendaItem struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Beneficiary string    `json:"beneficiary"`
	Name        string    `json:"name"`
	Node        string    `json:"node,omitempty"` // another coop's node
	Coop        string    `json:"coop,omitempty"`
	Extra       bool      `json:"extra,omitempty"`
}

// Agenda returns the calls a caregiver (or, for an admin, everybody) is
// expected to place between from and to: this node's schedules and, for
// caregivers holding grants, the other coops' schedules fetched live.
func (s *Service) Agenda(ctx context.Context, a auth.Actor, from, to time.Time) []AgendaItem {
	ss := s.schedules.Filter(func(sc *Schedule) bool {
		return !sc.Archived && (a.Role == auth.Admin || (a.CaregiverID != "" && sc.Caregiver == a.CaregiverID))
	})
	var out []AgendaItem
	for _, o := range Agenda(ss, from, to) {
		name := ""
		if b, ok := s.cfg.Dir.Beneficiary(o.Beneficiary); ok {
			name = b.Name
		}
		out = append(out, AgendaItem{Start: o.Start, End: o.End, Beneficiary: o.Beneficiary, Name: name, Extra: o.Extra})
	}
	if a.CaregiverID != "" && s.cfg.Remote != nil {
		out = append(out, s.remoteAgenda(ctx, a.CaregiverID, from, to)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	if out == nil {
		out = []AgendaItem{}
	}
	return out
}

func (s *Service) remoteAgenda(ctx context.Context, caregiver string, from, to time.Time) []AgendaItem {
	var (
		mu  sync.Mutex
		out []AgendaItem
		wg  sync.WaitGroup
	)
	for _, hg := range s.HeldGrants(caregiver) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			st, err := s.cfg.Remote.Open(ctx, hg.Issuer)
			if err != nil {
				return
			}
			defer st.Close()
			if st.Write(encodeMsg(Msg{Type: TypeAgenda, Grant: hg.Token, Caregiver: caregiver})) != nil {
				return
			}
			b, err := st.Read()
			if err != nil {
				return
			}
			m, err := DecodeMsg(b)
			if err != nil || m.Type != TypeAgenda {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range m.Agenda {
				if !o.Start.Before(from) && o.Start.Before(to) {
					out = append(out, AgendaItem{Start: o.Start, End: o.End, Beneficiary: hg.Beneficiary, Name: hg.DisplayName, Node: hg.Issuer, Extra: o.Extra})
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// deliverGrant hands a new grant to the caregiver's node if it is reachable;
// otherwise the admin passes the token on by hand.
func (s *Service) deliverGrant(g Grant) {
	if s.cfg.Remote == nil {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := s.cfg.Remote.Open(ctx, g.Node)
		if err != nil {
			s.log.Info("grant not delivered", "grant", g.ID, "err", err)
			return
		}
		defer st.Close()
		if st.Write(encodeMsg(Msg{Type: TypeGrant, Grant: g.Token})) == nil {
			_, _ = st.Read()
		}
	}()
}

// forwardCheckin tells the nodes of caregivers granted to call ben that
// the terminal said "Sto bene" or "Chiamatemi".
func (s *Service) forwardCheckin(ben, kind string) {
	if s.cfg.Remote == nil {
		return
	}
	now := s.now()
	for _, g := range s.grants.Filter(func(g *Grant) bool { return g.Beneficiary == ben && !g.Revoked && now.Before(g.Expires) }) {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st, err := s.cfg.Remote.Open(ctx, g.Node)
			if err != nil {
				s.log.Info("check-in not forwarded", "grant", g.ID, "err", err)
				return
			}
			defer st.Close()
			if st.Write(encodeMsg(Msg{Type: kind, Beneficiary: ben, Caregiver: g.Caregiver})) == nil {
				_, _ = st.Read()
			}
		}()
	}
}
