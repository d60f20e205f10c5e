package escalation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// newAlert stores an alert and sends it to its first link. Caller holds s.mu.
func (s *Service) newAlert(ctx context.Context, c *Case, action string, links []Link) (Alert, error) {
	tok, hash := newToken()
	al := Alert{ID: newID(), Case: c.ID, Beneficiary: c.Beneficiary, Action: action, Links: links,
		State: AlertActive, TokenHash: hash, CreatedAt: s.now()}
	s.send(ctx, c, &al, tok)
	if err := s.alerts.Put(ctx, al); err != nil {
		return Alert{}, fmt.Errorf("store alert: %w", err)
	}
	s.wake()
	return al, nil
}

// send queues the alert's message for its current link and sets the next
// timer. The token is only known when the alert is created; later sends
// carry a fresh one, and every token issued stays valid through the hash
// list kept in TokenHash (comma separated).
func (s *Service) send(ctx context.Context, c *Case, al *Alert, tok string) {
	if tok == "" {
		var h string
		tok, h = newToken()
		al.TokenHash += "," + h
	}
	l := al.Links[al.Index]
	st := s.settingsFor(al.Beneficiary)
	al.Sent++
	m := s.message(c, al, l, st, tok)
	if s.cfg.Notify != nil {
		if err := s.cfg.Notify.Enqueue(ctx, m); err != nil {
			// Queueing is a local write; if it fails the timer still runs
			// and the next send tries again.
			s.log.Error("alert not queued", "alert", al.ID, "err", err)
		}
	}
	what := "alert_sent"
	if al.Sent > 1 {
		what = "alert_repeated"
	}
	s.step(ctx, c, nodeActor, what, fmt.Sprintf("%s %s #%d via %s", al.ID, linkName(l), al.Sent, l.Channel))
	if al.Sent <= st.Repeats {
		al.NextAt = s.now().Add(st.RepeatAfter)
	} else {
		al.NextAt = s.now().Add(st.EscalateAfter)
	}
}

// linkName is what the timeline says of a link: its kind and position, never
// an address.
func linkName(l Link) string {
	if l.Name != "" {
		return l.Kind + ":" + l.Name
	}
	return l.Kind
}

// message is the text of an alert: what happened, how urgent, whom to call
// back, and the link to acknowledge. No name, address or note.
func (s *Service) message(c *Case, al *Alert, l Link, st Settings, tok string) Message {
	ack := strings.TrimRight(s.cfg.BaseURL, "/") + "/escalation/ack/" + tok
	what := "a problem was reported (" + c.Kind + ")"
	if c.Source == "missed" {
		what = "a scheduled check-in was missed (" + c.Reason + ")"
	}
	who := "case " + c.ID
	if st.Label != "" {
		who = st.Label + ", " + who
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Difronte alert - urgency %s.\n", c.Urgency)
	fmt.Fprintf(&b, "For %s: %s.\n", who, what)
	if s.cfg.CoopPhone != "" {
		fmt.Fprintf(&b, "Please call the coop back at %s.\n", s.cfg.CoopPhone)
	}
	fmt.Fprintf(&b, "Acknowledge that you have seen this alert: %s\n", ack)
	if al.Sent > 1 {
		fmt.Fprintf(&b, "This is reminder %d.\n", al.Sent-1)
	}
	return Message{
		ID:      fmt.Sprintf("%s/%d/%d", al.ID, al.Index, al.Sent),
		Channel: l.Channel, To: l.To,
		Subject: fmt.Sprintf("Difronte alert (%s): case %s", c.Urgency, c.ID),
		Body:    b.String(), Ref: al.ID, AckURL: ack,
		Data: map[string]string{"case": c.ID, "alert": al.ID, "kind": c.Kind, "urgency": c.Urgency,
			"source": c.Source, "reason": c.Reason, "callback": s.cfg.CoopPhone, "ack_url": ack, "label": st.Label},
	}
}

// advance runs an alert whose timer is due: repeat, escalate, or give up.
// Caller holds s.mu.
func (s *Service) advance(ctx context.Context, al *Alert) error {
	c, ok := s.cases.Get(al.Case)
	if !ok {
		al.State, al.NextAt = AlertExhausted, time.Time{}
		return s.alerts.Put(ctx, *al)
	}
	st := s.settingsFor(al.Beneficiary)
	if al.Sent > st.Repeats {
		// Repeats used up on this link: the next one.
		if al.Index+1 >= len(al.Links) {
			al.State, al.NextAt = AlertExhausted, time.Time{}
			s.step(ctx, &c, nodeActor, "alert_exhausted", al.ID)
			s.tellAdmins(ctx, &c, "alert_exhausted")
			if err := s.alerts.Put(ctx, *al); err != nil {
				return err
			}
			return s.saveCase(ctx, &c)
		}
		al.Index++
		al.Sent = 0
		s.stepf(ctx, &c, "alert_escalated", fmt.Sprintf("%s to %s", al.ID, linkName(al.Links[al.Index])))
	}
	s.send(ctx, &c, al, "")
	if err := s.alerts.Put(ctx, *al); err != nil {
		return err
	}
	return s.saveCase(ctx, &c)
}

func (s *Service) stepf(ctx context.Context, c *Case, what, detail string) {
	s.step(ctx, c, nodeActor, what, detail)
}

// AckByToken acknowledges an alert from the link in its message.
func (s *Service) AckByToken(ctx context.Context, token, remote string) (Alert, error) {
	if token == "" || len(token) > 100 {
		return Alert{}, problem.ErrNotFound
	}
	h := hashToken(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	found := s.alerts.Filter(func(a *Alert) bool {
		for _, x := range strings.Split(a.TokenHash, ",") {
			if x == h {
				return true
			}
		}
		return false
	})
	if len(found) == 0 {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "link", Action: audit.Denied, Kind: "alert", Remote: remote, Detail: "unknown ack token"})
		return Alert{}, problem.ErrNotFound
	}
	al := found[0]
	who := "link:" + linkName(al.Links[al.Index])
	return s.ack(ctx, auth.Actor{Username: who, Role: "contact", Remote: remote}, &al)
}

// Ack acknowledges an alert in the app: admins, and users who were alerted
// in-app by it.
func (s *Service) Ack(ctx context.Context, a auth.Actor, id string) (Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	al, ok := s.alerts.Get(id)
	if !ok {
		return Alert{}, problem.ErrNotFound
	}
	allowed := a.Role == auth.Admin
	for i := 0; i <= al.Index && i < len(al.Links); i++ {
		if al.Links[i].Channel == "inapp" && al.Links[i].To == a.Username {
			allowed = true
		}
	}
	if !allowed {
		return Alert{}, s.deny(ctx, a, "alert", id, "ack")
	}
	return s.ack(ctx, a, &al)
}

func (s *Service) ack(ctx context.Context, a auth.Actor, al *Alert) (Alert, error) {
	if al.State == AlertAcked {
		return *al, nil
	}
	al.State, al.NextAt, al.AckedBy, al.AckedAt = AlertAcked, time.Time{}, a.Username, s.now()
	if err := s.alerts.Put(ctx, *al); err != nil {
		return Alert{}, fmt.Errorf("store ack: %w", err)
	}
	if c, ok := s.cases.Get(al.Case); ok {
		s.step(ctx, &c, a, "alert_acked", al.ID)
		for i := range c.Actions {
			if c.Actions[i].Alert == al.ID && c.Actions[i].State != ActionDone {
				c.Actions[i].State, c.Actions[i].DoneAt, c.Actions[i].DoneBy = ActionDone, s.now(), a.Username
			}
		}
		if err := s.saveCase(ctx, &c); err != nil {
			return Alert{}, err
		}
	}
	return *al, nil
}

// Alerts lists a case's alerts.
func (s *Service) Alerts(ctx context.Context, a auth.Actor, caseID string) ([]Alert, error) {
	c, err := s.Case(ctx, a, caseID)
	if err != nil {
		return nil, err
	}
	out := s.alerts.Filter(func(x *Alert) bool { return x.Case == c.ID })
	if out == nil {
		out = []Alert{}
	}
	return out, nil
}
