package escalation

import "time"

// Waker is a Presence that also knows whether a terminal's PC switched
// itself on: its agent reports heartbeats. A terminal that runs the agent
// and sent nothing since shortly before the window did not come on (the
// wake alarm failed, the PC is unplugged): "terminale non acceso", which
// is not the same as a browser that lost the network.
type Waker interface {
	SwitchedOn(ben string, since time.Time) (known, on bool)
}

// wakeSlack is how long before a window's start a heartbeat counts as the
// PC being on for it (the agent wakes the PC 10 minutes ahead by default).
const wakeSlack = 30 * time.Minute

// offlineReason is why a window whose terminal is offline at its start is
// missed.
func (s *Service) offlineReason(w *Window) string {
	if wk, ok := s.cfg.Presence.(Waker); ok {
		if known, on := wk.SwitchedOn(w.Beneficiary, w.Start.Add(-wakeSlack)); known && !on {
			return MissNotOn
		}
	}
	return MissOffline
}
