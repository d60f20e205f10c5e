package escalation

import (
	"context"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/problem"
)

// AckView is the case as the page behind an alert's link shows it to the
// one the link was sent to: a contact the coop chose to alert about this
// person. Before the acknowledgement it says what, how urgent and when,
// with the coop's label for the person; the person's name only once the
// reader pressed the button (a POST: mail scanners that fetch links never
// see it). Nothing else of the record (no address, no note).
type AckView struct {
	Case     string    `json:"case"`
	Label    string    `json:"label,omitempty"`
	Name     string    `json:"name,omitempty"`
	What     string    `json:"what"`    // in the page's language
	Urgency  string    `json:"urgency"` // low, medium, high, critical
	OpenedAt time.Time `json:"opened_at"`
	Phone    string    `json:"phone,omitempty"` // the coop's, to call back
	Open     bool      `json:"open"`            // the case is still open
	Acked    bool      `json:"acked"`           // the alert was acknowledged
}

// AlertByToken is the case an alert's link points to, while the link has
// not expired, written in lang; named adds the person's name (the page
// after the acknowledgement). Reading it is audited under the link's ref;
// an unknown or expired token is problem.ErrNotFound (audited as
// refused). Unlike AckByToken it changes nothing, so a link that was used
// still shows the case (and says it was acknowledged) until it expires.
func (s *Service) AlertByToken(ctx context.Context, token, lang, remote string, named bool) (AckView, error) {
	if token == "" || len(token) > 100 {
		return AckView{}, problem.ErrNotFound
	}
	s.mu.Lock()
	al, tk, ok := s.findToken(hashToken(token))
	var c Case
	if ok {
		c, ok = s.cases.Get(al.Case)
	}
	s.mu.Unlock()
	if !ok || !s.now().Before(tk.Expires) {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "link", Action: audit.Denied, Kind: "alert", Object: al.ID, Remote: remote, Detail: "ack page"})
		return AckView{}, problem.ErrNotFound
	}
	v := AckView{Case: c.ID, Label: s.settingsFor(c.Beneficiary).Label, What: s.what(lang, &c), Urgency: c.Urgency, OpenedAt: c.OpenedAt,
		Phone: s.cfg.CoopPhone, Open: c.State == CaseOpen, Acked: al.State == AlertAcked}
	detail := ""
	if named {
		p, _ := s.cfg.Dir.Beneficiary(ctx, c.Beneficiary)
		v.Name, detail = p.Name, "named"
	}
	s.cfg.Audit.Note(audit.Event{Actor: "link:" + tk.Link, Role: "contact", Action: audit.Read, Kind: "case", Object: c.ID, Remote: remote, Detail: detail})
	return v, nil
}
