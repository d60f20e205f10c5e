package escalation

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The texts of alerts, admin notices and call request notices come from
// the message catalogues (web/locales/alerts.<lang>.json, care3.<lang>.json),
// in the recipient's language: an account's own for in-app messages, the
// link's (else the coop's first language) for e-mail and webhooks. The
// texts themselves never carry the person's name, since e-mail and
// webhooks pass through servers the coop does not control; the name is
// shown only where the reader may see it: an in-app message names the
// beneficiary by id (Message.Beneficiary) and the inbox page shows the
// name to an account allowed to see it; an e-mail or webhook carries the
// label the coop chose for the chain, if any, and a link to the page of
// the case behind the recipient's own token (ackview.go), which names the
// person to the contact the coop chose to alert about them.

// text renders a catalogue message; without catalogues (package tests) it
// is the key and its arguments.
func (s *Service) text(lang, key string, args ...any) string {
	if s.cfg.Text != nil {
		return s.cfg.Text(lang, key, args...)
	}
	var b strings.Builder
	b.WriteString(key)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
	}
	return b.String()
}

// langOf is the language to write to a link in: the account's for
// in-app messages, the link's own for e-mail and webhooks, else the coop's.
func (s *Service) langOf(l Link) string {
	if l.Channel == "inapp" && s.cfg.Lang != nil {
		if lang := s.cfg.Lang(l.To); lang != "" {
			return lang
		}
	}
	if l.Channel != "inapp" && l.Lang != "" {
		return l.Lang
	}
	return s.cfg.DefaultLang
}

// what says what happened in a case, in lang.
func (s *Service) what(lang string, c *Case) string {
	switch {
	case c.Source == "missed" && c.Reason == MissRequest:
		return s.text(lang, "alert.what_request")
	case c.Source == "missed":
		return s.text(lang, "alert.what_missed", "Reason", s.text(lang, "esc.reason."+c.Reason))
	}
	return s.text(lang, "alert.what_problem", "Kind", s.text(lang, "esc.kind."+c.Kind))
}

// caseLink is the case page, relative for in-app messages.
func (s *Service) caseLink(c *Case, absolute bool) string {
	p := "/cases/" + c.ID
	if absolute {
		return strings.TrimRight(s.cfg.BaseURL, "/") + p
	}
	return p
}

// zone is where times in messages are written.
func (s *Service) zone() *time.Location {
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		return loc
	}
	return time.UTC
}

// tellRequest tells the beneficiary's caregivers (their accounts, in-app)
// that the terminal asked for a call; with none, the admins.
func (s *Service) tellRequest(ctx context.Context, ev Event) {
	if s.cfg.Notify == nil {
		return
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, ev.Beneficiary)
	if !ok {
		return
	}
	var to []string
	for _, cg := range p.Caregivers {
		if u, ok := s.cfg.Dir.CaregiverUser(ctx, cg); ok {
			to = append(to, u)
		}
	}
	if len(to) == 0 {
		to = s.cfg.Dir.Admins(ctx)
	}
	at := ev.At.In(s.zone()).Format("15:04")
	for _, u := range to {
		lang := s.langOf(Link{Channel: "inapp", To: u})
		m := Message{ID: "request/" + ev.Request + "/" + u, Channel: "inapp", To: u,
			Subject: s.text(lang, "alert.request_subject"),
			Body:    s.text(lang, "alert.request_body", "Time", at),
			Ref:     ev.Request, Link: "/agenda#request-" + ev.Request, Beneficiary: ev.Beneficiary}
		if err := s.cfg.Notify.Enqueue(ctx, m); err != nil {
			s.log.Error("call request notice not queued", "request", ev.Request, "err", err)
		}
	}
}

// missRequest opens the case of a call request nobody called back, once.
// Caller holds s.mu.
func (s *Service) missRequest(ctx context.Context, ev Event) error {
	if len(s.cases.Filter(func(c *Case) bool { return c.Request == ev.Request })) > 0 {
		return nil
	}
	p, ok := s.cfg.Dir.Beneficiary(ctx, ev.Beneficiary)
	if !ok {
		return nil
	}
	now := s.now()
	c := Case{ID: newID(), Beneficiary: ev.Beneficiary, Municipality: p.Municipality, Source: "missed", Reason: MissRequest,
		Kind: "missed_checkin", Urgency: "high", Request: ev.Request, State: CaseOpen, OpenedAt: now,
		Actions:  []Action{{Kind: ActMissed, State: ActionPending}},
		Timeline: []Step{{At: now, By: "node", What: "opened", Detail: "missed " + MissRequest}}}
	if len(p.Caregivers) > 0 {
		c.Caregiver = p.Caregivers[0]
	}
	return s.openCase(ctx, nodeActor, &c, p)
}
