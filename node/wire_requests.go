package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/outbox"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/schema"
)

// RequestsConfig configures citizens' requests and cases.
type RequestsConfig struct {
	// RemindAfter is how long a request may stay unanswered before the
	// provider is reminded and the citizen sees it flagged (default 72 h).
	RemindAfter time.Duration
	// MinBackoff and MaxBackoff bound the retries of the outbox to an
	// unreachable node (default 1 s and 5 min).
	MinBackoff, MaxBackoff time.Duration
	// With the node's SMTP, new requests, reminders, accepted offers, the
	// citizens' changes and messages are told by e-mail to every enabled
	// admin and case manager with an e-mail, each in the account's
	// language, and to OfficeEmail, the coop office's addresses (serve
	// --requests-office-email), in OfficeLang (default Italian). With
	// neither, the coop's public contact e-mail from its offerings is told.
	// The in-app notices are in each account's language.
	OfficeEmail []string
	OfficeLang  string
}

// requestsCatalogue finds live offerings in the federated catalogue.
type requestsCatalogue struct{ n *Node }

func (c requestsCatalogue) Offering(ctx context.Context, ref string) (requests.OfferingRef, bool) {
	cat := c.n.Catalogue()
	if cat == nil {
		return requests.OfferingRef{}, false
	}
	var pubs []string
	key := ref
	if pub, k, ok := strings.Cut(ref, "/"); ok {
		pubs, key = []string{pub}, k
	} else {
		pubs = cat.Publishers(ref)
	}
	if len(pubs) != 1 {
		return requests.OfferingRef{}, false
	}
	l, err := cat.Get(ctx, pubs[0], key)
	if err != nil || l.Status == schema.StatusInactive {
		return requests.OfferingRef{}, false
	}
	return requests.OfferingRef{Publisher: l.Publisher, ID: l.ID, Name: l.Name, Category: l.Category}, true
}

// notifyStaff puts an in-app line in the inbox of user, or, when user is
// "", of every enabled account of roles: kinds and ids only.
func (n *Node) notifyStaff(ctx context.Context, prefix, kind, object, user string, roles ...auth.Role) {
	if n.notify == nil {
		return
	}
	var to []string
	if user != "" {
		to = []string{user}
	} else {
		for _, a := range n.auth.List() {
			if slices.Contains(roles, a.Role) && !a.Disabled {
				to = append(to, a.Username)
			}
		}
	}
	for _, u := range to {
		_ = n.notify.Enqueue(ctx, notify.Message{ID: prefix + "/" + kind + "/" + object + "/" + u + "/" + n.cfg.Clock.Now().Format(time.RFC3339Nano),
			Channel: notify.InApp, To: u, Subject: "Difronte: " + kind + " " + object, Body: kind + " " + object, Ref: object})
	}
}

// startRequests opens the requests domain and serves its protocol.
func (n *Node) startRequests(ctx context.Context) error {
	rc := n.cfg.Requests
	cn, err := newCitNotifier(n)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	s, err := requests.Open(ctx, requests.Config{Store: n.store.Namespace("/requests"), Audit: n.audit, Clock: n.cfg.Clock,
		Logger: n.log, Self: n.peerID, Catalogue: requestsCatalogue{n}, Notify: cn.notify, DisplayName: n.citizenName,
		RemindAfter: rc.RemindAfter, MinBackoff: rc.MinBackoff, MaxBackoff: rc.MaxBackoff})
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	n.lc.add("requests", s.Close)
	n.requests = s
	if n.metrics != nil {
		n.metrics.MustRegister(outboxMetrics(s.Outbox())...)
	}
	if n.fed != nil {
		h := n.fed.Host()
		link := federation.NewRequestsLink(h, s.HandleRemote)
		n.lc.add("requests protocol", func() error { link.Close(); return nil })
		s.SetCarrier(link)
		if err := n.onConnect("requests", s.Wake); err != nil {
			return err
		}
	}
	s.Start()
	return nil
}

// onConnect calls wake with the peer id of every peer that connects, until
// the node closes (an outbox sends what waits for it at once).
func (n *Node) onConnect(what string, wake func(peer string)) error {
	sub, err := n.fed.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return fmt.Errorf("%s: watch connections: %w", what, err)
	}
	n.lc.add(what+" wake-up", sub.Close)
	go func() {
		for ev := range sub.Out() {
			if e := ev.(event.EvtPeerConnectednessChanged); e.Connectedness == network.Connected {
				wake(e.Peer.String())
			}
		}
	}()
	return nil
}

// Requests returns the requests domain.
func (n *Node) Requests() *requests.Service { return n.requests }

// outboxMetrics are the requests outbox's counters: fixed labels, no
// peer, no id.
func outboxMetrics(o *outbox.Outbox) []prometheus.Collector {
	counter := func(outcome string, v func(outbox.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "difronte_requests_outbox_messages_total",
			Help:        "Messages of the requests protocol by outcome: queued, delivered, refused by the receiver, failed attempts.",
			ConstLabels: prometheus.Labels{"outcome": outcome}}, func() float64 { return float64(v(o.Stats())) })
	}
	return []prometheus.Collector{
		counter("queued", func(s outbox.Stats) uint64 { return s.Queued }),
		counter("delivered", func(s outbox.Stats) uint64 { return s.Delivered }),
		counter("refused", func(s outbox.Stats) uint64 { return s.Refused }),
		counter("failed_attempt", func(s outbox.Stats) uint64 { return s.Failed }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "difronte_requests_outbox_pending",
			Help: "Messages of the requests protocol waiting for their destination."}, func() float64 { return float64(o.Stats().Pending) }),
	}
}

// searchNoResult counts a catalogue search that found nothing in the
// demand record (category and municipality codes, never the text).
func (n *Node) searchNoResult(ctx context.Context, category, municipality string) {
	if n.requests != nil {
		n.requests.NoResult(ctx, category, municipality)
	}
}

// citizenName is a citizen's display name, for the requests an operator
// sends for them.
func (n *Node) citizenName(citizen string) string {
	if acc, ok := n.auth.Get(citizen); ok && acc.Role == auth.Citizen {
		return acc.DisplayName
	}
	return ""
}
