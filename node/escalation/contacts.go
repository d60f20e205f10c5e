package escalation

import "time"

// contactsOutsideWindows are the answered calls to this node's
// beneficiaries in [from, to) that did not close an agreed check-in
// window (those count as the window): the dashboard's other contacts made.
func (s *Service) contactsOutsideWindows(from, to time.Time) []CallSeen {
	done := s.windows.Filter(func(w *Window) bool { return w.State == WindowDone && w.How == string(CallAnswered) })
	return s.calls.Filter(func(c *CallSeen) bool {
		if !c.Answered || c.Node != "" || c.At.Before(from) || !c.At.Before(to) {
			return false
		}
		for _, w := range done {
			if w.Beneficiary == c.Beneficiary && !c.At.Before(w.Start.Add(-time.Hour)) && !c.At.After(w.Deadline) {
				return false
			}
		}
		return true
	})
}
