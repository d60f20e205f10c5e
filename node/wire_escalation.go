package node

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/webui"
	"github.com/difronte/difronte/schema"
)

// EscalationConfig configures outcomes, alerts and notifications.
type EscalationConfig struct {
	// BaseURL is the node's public address, for the acknowledgement links
	// in alerts (default http://<HTTPAddr>).
	BaseURL string
	// CoopPhone is the number alerts ask people to call back.
	CoopPhone string
	// SMTPFile is a JSON file (0600) with the SMTP server and credentials.
	SMTPFile string
	// WebhookSecretFile holds the secret that signs webhook alerts.
	WebhookSecretFile string
	// Grace is how long after an agreed call's end a check-in still
	// counts before the missed case opens (default 30 min).
	Grace time.Duration
	// AckTTL is how long an acknowledgement link works (default 7 days).
	AckTTL time.Duration
}

var escalationActor = auth.Actor{Username: "system:escalation", Role: auth.Admin}

// escDirectory lets escalation read the private registry and the
// accounts as the node.
type escDirectory struct {
	care *care.Service
	auth *auth.Service
}

func (d escDirectory) Beneficiary(ctx context.Context, id string) (escalation.Person, bool) {
	b, err := d.care.Beneficiary(ctx, escalationActor, id)
	if err != nil || b.Archived {
		return escalation.Person{}, false
	}
	p := escalation.Person{ID: b.ID, Name: b.Name, Address: b.Address, Municipality: b.Municipality, BirthYear: b.BirthYear,
		Phone: b.Phone, Fragility: b.Fragility, Notes: b.Notes, Caregivers: b.Caregivers}
	for _, c := range b.Contacts {
		p.Contacts = append(p.Contacts, escalation.Contact{Kind: c.Kind, Name: c.Name, Relation: c.Relation, Phone: c.Phone, Email: c.Email, Lang: c.Lang})
	}
	return p, true
}

func (d escDirectory) CaregiverUser(ctx context.Context, id string) (string, bool) {
	c, err := d.care.Caregiver(ctx, escalationActor, id)
	if err != nil || c.Archived {
		return "", false
	}
	if c.Username != "" {
		return c.Username, true
	}
	// An account made for the caregiver without the registry naming it.
	for _, a := range d.auth.List() {
		if a.Role == auth.Caregiver && a.CaregiverID == id && !a.Disabled {
			return a.Username, true
		}
	}
	return "", false
}

func (d escDirectory) Admins(context.Context) []string {
	var out []string
	for _, a := range d.auth.List() {
		if a.Role == auth.Admin && !a.Disabled {
			out = append(out, a.Username)
		}
	}
	return out
}

// escCalls adapts node/calls to escalation's schedules, presence, grants
// and call log.
type escCalls struct {
	calls *calls.Service
	clk   clock.Clock
}

func (c escCalls) Slots(_ context.Context, from, to time.Time) ([]escalation.Slot, error) {
	var out []escalation.Slot
	for _, o := range calls.Agenda(c.calls.Schedules(escalationActor, ""), from, to) {
		out = append(out, escalation.Slot{Schedule: o.Schedule, Beneficiary: o.Beneficiary, Caregiver: o.Caregiver, Start: o.Start, End: o.End})
	}
	return out, nil
}

func (c escCalls) TerminalOnline(ben string) bool { return c.calls.Hub().Online(ben) }

func (c escCalls) Granted(ctx context.Context, peer, caregiver, ben string) bool {
	gs, err := c.calls.Grants(ctx, escalationActor)
	if err != nil {
		return false
	}
	now := c.clk.Now()
	for _, g := range gs {
		if g.Node == peer && g.Caregiver == caregiver && g.Beneficiary == ben && !g.Revoked && now.Before(g.Expires) {
			return true
		}
	}
	return false
}

func (c escCalls) Calls(_ context.Context, ben string, from, to time.Time) []escalation.CallSeen {
	var out []escalation.CallSeen
	for _, r := range c.calls.Records(escalationActor, ben) {
		if r.Started.Before(from) || !r.Started.Before(to) {
			continue
		}
		out = append(out, escalation.CallSeen{ID: r.ID, Beneficiary: r.Beneficiary, Caregiver: r.Caregiver, At: r.Started, Answered: r.Answered})
	}
	return out
}

// notifier adapts node/notify to escalation.Notifier.
type notifier struct{ s *notify.Service }

func (n notifier) Enqueue(ctx context.Context, m escalation.Message) error {
	return n.s.Enqueue(ctx, notify.Message{ID: m.ID, Channel: m.Channel, To: m.To, Subject: m.Subject, Body: m.Body, Ref: m.Ref, AckURL: m.AckURL, Data: m.Data,
		Link: m.Link, Beneficiary: m.Beneficiary})
}

// startEscalation opens notifications and escalation, after calls.
func (n *Node) startEscalation(ctx context.Context) error {
	ec := n.cfg.Escalation
	clk := n.cfg.Clock
	ncfg := notify.Config{Store: n.store.Namespace("/notify"), Clock: clk, Logger: n.log}
	if ec.SMTPFile != "" {
		sc, err := notify.LoadSMTPConfig(ec.SMTPFile)
		if err != nil {
			return err
		}
		ncfg.SMTP = sc
	}
	if ec.WebhookSecretFile != "" {
		b, err := os.ReadFile(ec.WebhookSecretFile)
		if err != nil {
			return fmt.Errorf("read webhook secret: %w", err)
		}
		ncfg.WebhookSecret = []byte(strings.TrimSpace(string(b)))
	}
	texts, err := webui.NewTranslator()
	if err != nil {
		return fmt.Errorf("message catalogues: %w", err)
	}
	n.texts = texts
	ns, err := notify.Open(ctx, ncfg)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	n.lc.add("notify", ns.Close)
	n.notify = ns
	base := ec.BaseURL
	if base == "" {
		base = "http://" + n.cfg.HTTPAddr
	}
	cc := escCalls{calls: n.calls, clk: clk}
	cfg := escalation.Config{Store: n.store.Namespace("/escalation"), Audit: n.audit, Dir: escDirectory{care: n.care, auth: n.auth}, Notify: notifier{ns},
		Clock: clk, Logger: n.log, Schedules: cc, Presence: escPresence{cc, n.fleet}, Grants: cc, CallLog: cc, BaseURL: base, CoopPhone: ec.CoopPhone,
		Grace: ec.Grace, AckTTL: ec.AckTTL, Text: n.texts.Text, Lang: func(u string) string {
			if a, ok := n.auth.Get(u); ok {
				return a.Lang
			}
			return ""
		}}
	offers := escalation.CatalogueOffers{Self: n.peerID, CoopName: n.cfg.CoopName, Own: func() []schema.Offering {
		var out []schema.Offering
		for _, o := range n.own.All() {
			if !o.Archived {
				out = append(out, o.Offering)
			}
		}
		return out
	}}
	if cat := n.Catalogue(); cat != nil {
		q := n.qual.svc
		offers.Catalogue = cat
		offers.IsQualified = func(pub string, o schema.Offering) bool {
			if q == nil {
				return false
			}
			_, _, ok := q.Qualified(pub, o)
			return ok
		}
	}
	cfg.Offers = offers
	es, err := escalation.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("escalation: %w", err)
	}
	n.lc.add("escalation", es.Close)
	n.escalation = es
	n.callEvents.es = es
	if n.fed != nil {
		link := federation.NewOutcomeLink(n.fed.Host(), es.HandleRemote)
		n.lc.add("outcome protocol", func() error { link.Close(); return nil })
		n.outcomeLink = link
		es.SetCarrier(link)
	}
	if err := ns.Start(ctx); err != nil {
		return err
	}
	if err := es.Start(ctx); err != nil {
		return err
	}
	// Escalation listens now: the call requests stored open get their
	// timers (one overdue across a restart is reported at once).
	n.calls.StartRequests()
	return nil
}

// escalationAPI is the escalation routes, with the registry's caregiver
// names for the dashboard's CSV export.
func (n *Node) escalationAPI() escalation.API {
	return escalation.API{Service: n.escalation, CaregiverName: func(ctx context.Context, a auth.Actor, id string) (string, bool) {
		c, err := n.care.Caregiver(ctx, a, id)
		return c.Name, err == nil
	}}
}

// Escalation returns the escalation service.
func (n *Node) Escalation() *escalation.Service { return n.escalation }

// Notify returns the notification service.
func (n *Node) Notify() *notify.Service { return n.notify }
