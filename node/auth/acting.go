package auth

import (
	"context"
	"errors"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/store"
)

// ErrNotCitizen is an "act for" whose target is not a citizen's account,
// or whose actor may not act for anyone.
var ErrNotCitizen = errors.New("only an operator or an admin may act, and only for a citizen")

// MayActFor reports whether an account of role r may enter the "act for
// a citizen" mode at all; which citizens it may act for (those who gave
// their consent) is the citizens domain's rule.
func MayActFor(r Role) bool { return r == Operator || r == Admin }

// ActFor puts the session of token in the "act for citizen" mode, or
// back to acting for itself when citizen is empty. The mode lives in the
// session: it ends with the session (logout, expiry, a changed account).
func (s *Service) ActFor(ctx context.Context, token, citizen string) error {
	id := tokenID(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[id]
	if !ok || se.Expires.Before(s.clk.Now()) {
		return ErrNoSession
	}
	if citizen != "" {
		c, ok := s.accounts[citizen]
		if !MayActFor(se.Role) || !ok || c.Role != Citizen || c.Disabled {
			return ErrNotCitizen
		}
	}
	next := *se
	next.ActingFor = citizen
	if err := store.PutJSON(ctx, s.ds, "/sessions/"+id, &next); err != nil {
		return err
	}
	s.sessions[id] = &next
	return nil
}

// OpenSession opens a session for username without a password: for a
// login the node has already checked another way (an OpenID Connect
// provider's signed ID token).
func (s *Service) OpenSession(ctx context.Context, username string) (string, *Session, error) {
	s.mu.RLock()
	a, ok := s.accounts[username]
	s.mu.RUnlock()
	if !ok || a.Disabled {
		return "", nil, ErrBadCredentials
	}
	return s.newSession(ctx, a)
}

// Delete erases an account and ends its sessions, and every session
// acting for it.
func (s *Service) Delete(ctx context.Context, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[username]; !ok {
		return ErrNotFound
	}
	if err := s.ds.Delete(ctx, store.NewKey("/accounts/"+username)); err != nil {
		return err
	}
	delete(s.accounts, username)
	s.dropSessionsLocked(ctx, username)
	for id, se := range s.sessions {
		if se.ActingFor == username {
			next := *se
			next.ActingFor = ""
			if err := store.PutJSON(ctx, s.ds, "/sessions/"+id, &next); err == nil {
				s.sessions[id] = &next
			}
		}
	}
	return nil
}

// SessionCount returns how many live sessions username has.
func (s *Service) SessionCount(username string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, se := range s.sessions {
		if se.Username == username {
			n++
		}
	}
	return n
}

// Citizen is the citizen whose data the actor touches: the one it acts
// for, or itself when it is a citizen; "" for anyone else.
func (a Actor) Citizen() string {
	if a.For != "" {
		return a.For
	}
	if a.Role == Citizen {
		return a.Username
	}
	return ""
}

// Event is an audit event of the actor, naming the citizen it acts for:
// "operator X for citizen Y" is Actor X, For Y. The citizen sees the
// events recorded for them in their private area (audit.Log.ForCitizen).
func (a Actor) Event(action audit.Action, kind, object string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: action, Kind: kind, Object: object, Remote: a.Remote, For: a.For}
}
