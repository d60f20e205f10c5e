package requests

import (
	"context"
	"sync"
	"time"
)

// SendNowTimeout bounds how long a citizen's request waits for a provider
// online to answer before the outbox takes over its delivery.
const SendNowTimeout = 2 * time.Second

// outgoing is one encoded wire message and its id.
type outgoing struct {
	id string
	b  []byte
}

// Connected is what a Carrier may also tell: whether it holds a link to
// the node to now. A request is sent at once only to such a node (or to
// this node itself); one without a link waits in the outbox rather than
// keep the citizen waiting on a dial.
type Connected interface {
	Connected(to string) bool
}

// online reports whether to can be sent to at once.
func (s *Service) online(to string) bool {
	if to == s.cfg.Self {
		return true
	}
	s.cmu.Lock()
	c := s.carrier
	s.cmu.Unlock()
	l, ok := c.(Connected)
	return ok && l.Connected(to)
}

// sendNow sends each message to its provider, all at once, when the
// provider is online and has nothing queued (outbox.Outbox.SendNow), and
// reports which ones were answered (delivered or refused for good).
func (s *Service) sendNow(ctx context.Context, msgs map[string]outgoing) map[string]bool {
	sent := make(map[string]bool, len(msgs))
	var online []string
	for to := range msgs {
		if s.online(to) {
			online = append(online, to)
		}
	}
	var mu sync.Mutex
	send := func(to string) {
		ok := s.out.SendNow(ctx, to, msgs[to].id, msgs[to].b, SendNowTimeout)
		mu.Lock()
		sent[to] = ok
		mu.Unlock()
	}
	if len(online) == 1 { // the usual request: no goroutine to wake
		send(online[0])
		return sent
	}
	var wg sync.WaitGroup
	for _, to := range online {
		wg.Go(func() { send(to) })
	}
	wg.Wait()
	return sent
}

// creating marks (on) or unmarks the id of a request being created: sent
// to its providers, not yet stored.
func (s *Service) creating(id string, on bool) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if on {
		s.inFlight[id] = true
	} else {
		delete(s.inFlight, id)
	}
}

// isCreating reports whether the request id is being created.
func (s *Service) isCreating(id string) bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.inFlight[id]
}
