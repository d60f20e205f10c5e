package calls

import (
	"context"
	"time"
)

// Presence says whether a terminal or a caregiver is connected now, and
// when it last was.
type Presence struct {
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen,omitzero"` // zero: never since the record was kept
}

// seen is when a terminal ("terminal/<id>") or a caregiver
// ("caregiver/<id>") last connected or left: kept so that "last seen"
// survives a restart of the node.
type seen struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// noteSeen records that who connected or left now. Off any request (the
// sockets' own goroutines): a fresh, short context.
func (s *Service) noteSeen(kind, id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.seen.Put(ctx, seen{Key: kind + "/" + id, At: s.now()}); err != nil {
		s.log.Error("last seen not stored", "kind", kind, "err", err)
	}
}

func (s *Service) lastSeen(kind, id string) time.Time {
	x, _ := s.seen.Get(kind + "/" + id)
	return x.At
}

// TerminalPresence is a terminal's presence: online while one of its
// paired browsers holds a socket to this node.
func (s *Service) TerminalPresence(terminal string) Presence {
	return Presence{Online: s.hub.terminalOnline(terminal), LastSeen: s.lastSeen("terminal", terminal)}
}

// CaregiverPresence is a caregiver's presence: online while the agenda is
// open in one of their browsers.
func (s *Service) CaregiverPresence(caregiver string) Presence {
	return Presence{Online: s.hub.caregiverOnline(caregiver), LastSeen: s.lastSeen("caregiver", caregiver)}
}

func (h *Hub) terminalOnline(terminal string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.terminals {
		if t.TerminalID == terminal {
			return true
		}
	}
	return false
}

func (h *Hub) caregiverOnline(caregiver string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.caregiver {
		if c.caregiver == caregiver {
			return true
		}
	}
	return false
}
