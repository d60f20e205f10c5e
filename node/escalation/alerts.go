package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// newAlert stores an alert and sends it to its first link; the alert keeps
// the links bare (role, id, channel). Caller holds s.mu.
func (s *Service) newAlert(ctx context.Context, c *Case, action string, links []Link) (Alert, error) {
	al := Alert{ID: newID(), Case: c.ID, Beneficiary: c.Beneficiary, Action: action, State: AlertActive, CreatedAt: s.now()}
	for _, l := range links {
		al.Links = append(al.Links, bare(l))
	}
	s.send(ctx, c, &al)
	if err := s.alerts.Put(ctx, al); err != nil {
		return Alert{}, fmt.Errorf("store alert: %w", err)
	}
	s.wake()
	return al, nil
}

// send queues the alert's message for its current link, with a fresh
// acknowledgement token, and sets the next timer. Whom the link reaches is
// looked up now; a link whose contact left the chain is passed over.
func (s *Service) send(ctx context.Context, c *Case, al *Alert) {
	now := s.now()
	st := s.settingsFor(al.Beneficiary)
	ref := al.Links[al.Index].Ref()
	l, ok := s.resolve(ctx, al.Beneficiary, al.Links[al.Index])
	if !ok {
		s.step(ctx, c, nodeActor, "contact_gone", al.ID+" "+ref)
		al.Sent, al.NextAt = st.Repeats+1, now
		return
	}
	tok, hash := newToken()
	al.Tokens = slices.DeleteFunc(al.Tokens, func(t AckToken) bool { return !now.Before(t.Expires) })
	al.Tokens = append(al.Tokens, AckToken{Hash: hash, Link: ref, Expires: now.Add(s.cfg.AckTTL)})
	al.Sent++
	m := s.message(c, al, l, st, tok)
	if s.cfg.Notify != nil {
		if err := s.cfg.Notify.Enqueue(ctx, m); err != nil {
			// Queueing is a local write; if it fails the timer still runs
			// and the next send tries again.
			s.log.Error("alert not queued", "alert", al.ID, "link", ref, "err", err)
		}
	}
	what := "alert_sent"
	if al.Sent > 1 {
		what = "alert_repeated"
	}
	s.step(ctx, c, nodeActor, what, fmt.Sprintf("%s %s #%d via %s", al.ID, ref, al.Sent, l.Channel))
	if al.Sent <= st.Repeats {
		al.NextAt = now.Add(st.RepeatAfter)
	} else {
		al.NextAt = now.Add(st.EscalateAfter)
	}
}

// message is the text of an alert in the recipient's language: what
// happened, how urgent, whom to call back, the case (in-app), and the link
// to acknowledge. No name, address or note (text.go).
func (s *Service) message(c *Case, al *Alert, l Link, st Settings, tok string) Message {
	ack := strings.TrimRight(s.cfg.BaseURL, "/") + "/escalation/ack/" + tok
	lang := s.langOf(l)
	what := s.what(lang, c)
	urgency := s.text(lang, "esc.urgency."+c.Urgency)
	var b strings.Builder
	line := func(key string, args ...any) { b.WriteString(s.text(lang, key, args...) + "\n") }
	line("alert.body_what", "What", what, "Urgency", urgency)
	if st.Label != "" {
		line("alert.body_who", "Who", st.Label)
	}
	if s.cfg.CoopPhone != "" {
		line("alert.body_callback", "Phone", s.cfg.CoopPhone)
	}
	line("alert.body_case", "Case", c.ID)
	link := ""
	if l.Channel == "inapp" {
		link = s.caseLink(c, false)
	} else {
		// The page behind the recipient's own token shows the case and
		// takes the acknowledgement; the coop's people may also open it
		// in the app.
		line("care3.alert_open", "URL", ack)
		if l.Kind == "coop" || l.Kind == "caregiver" {
			line("care3.alert_in_app", "URL", s.caseLink(c, true))
		}
	}
	if al.Sent > 1 {
		line("alert.body_reminder", "N", al.Sent-1)
	}
	m := Message{
		ID:      fmt.Sprintf("%s/%d/%d", al.ID, al.Index, al.Sent),
		Channel: l.Channel, To: l.To,
		Subject: s.text(lang, "alert.subject", "What", what, "Urgency", urgency),
		Body:    b.String(), Ref: al.ID, AckURL: ack, Link: link,
		Data: map[string]string{"case": c.ID, "alert": al.ID, "kind": c.Kind, "urgency": c.Urgency,
			"source": c.Source, "reason": c.Reason, "callback": s.cfg.CoopPhone, "ack_url": ack, "label": st.Label,
			"case_url": s.caseLink(c, true), "lang": lang},
	}
	if l.Channel == "inapp" {
		m.Beneficiary = c.Beneficiary
	}
	return m
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
		s.stepf(ctx, &c, "alert_escalated", fmt.Sprintf("%s to %s", al.ID, al.Links[al.Index].Ref()))
	}
	s.send(ctx, &c, al)
	if err := s.alerts.Put(ctx, *al); err != nil {
		return err
	}
	return s.saveCase(ctx, &c)
}

func (s *Service) stepf(ctx context.Context, c *Case, what, detail string) {
	s.step(ctx, c, nodeActor, what, detail)
}

// AckByToken acknowledges an alert from the link in its message. A link
// works once and until it expires (Config.AckTTL): a used, expired or
// unknown token is problem.ErrNotFound, and audited as refused.
func (s *Service) AckByToken(ctx context.Context, token, remote string) (Alert, error) {
	if token == "" || len(token) > 100 {
		return Alert{}, problem.ErrNotFound
	}
	h := hashToken(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	al, tk, ok := s.findToken(h)
	why := ""
	switch {
	case !ok:
		why = "unknown ack token"
	case al.State == AlertAcked:
		why = "used ack token"
	case !s.now().Before(tk.Expires):
		why = "expired ack token"
	}
	if why != "" {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "link", Action: audit.Denied, Kind: "alert", Object: al.ID, Remote: remote, Detail: why})
		return Alert{}, problem.ErrNotFound
	}
	return s.ack(ctx, auth.Actor{Username: "link:" + tk.Link, Role: "contact", Remote: remote}, &al)
}

// findToken finds the alert a token hash was issued for. Alerts stored
// before Tokens keep a hash list whose links expire AckTTL after the alert
// began and are named by the link alerted last.
func (s *Service) findToken(h string) (Alert, AckToken, bool) {
	var tk AckToken
	found := s.alerts.Filter(func(a *Alert) bool {
		for _, t := range a.Tokens {
			if t.Hash == h {
				tk = t
				return true
			}
		}
		if slices.Contains(strings.Split(a.TokenHash, ","), h) && a.Index < len(a.Links) {
			tk = AckToken{Hash: h, Link: a.Links[a.Index].Ref(), Expires: a.CreatedAt.Add(s.cfg.AckTTL)}
			return true
		}
		return false
	})
	if len(found) == 0 {
		return Alert{}, AckToken{}, false
	}
	return found[0], tk, true
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
	for i := 0; i <= al.Index && i < len(al.Links) && !allowed; i++ {
		if al.Links[i].Channel == "inapp" {
			l, ok := s.resolve(ctx, al.Beneficiary, al.Links[i])
			allowed = ok && l.To == a.Username
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
