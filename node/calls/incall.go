package calls

// InCall reports whether a beneficiary's terminal has a call ringing or
// going on: the terminal's agent never powers the PC off then.
func (h *Hub) InCall(ben string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.calls {
		if c.ben == ben && c.state != ended {
			return true
		}
	}
	return false
}
