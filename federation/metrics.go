package federation

import (
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/difronte/difronte/federation/catchup"
	"github.com/difronte/difronte/federation/topics"
)

// metrics are the federation's Prometheus collectors. Every label value
// comes from a fixed set: topic names, verdicts and reasons
// (topics.Reasons), catch-up roles and outcomes, budget reasons, protocol
// ids (streamLimits, or "other"). Never a peer ID, a key or anything a
// peer chose. docs/api.md lists them.
type metrics struct {
	entries  *prometheus.CounterVec // topic, verdict, reason
	sessions *prometheus.CounterVec // role, outcome, reason
	bytes    *prometheus.CounterVec // role, direction
	cuEnts   *prometheus.CounterVec // role
	refusals *prometheus.CounterVec // protocol, reason
}

func newMetrics() *metrics {
	const ns, sub = "difronte", "federation"
	return &metrics{
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "gossip_entries_total",
			Help: "Entries received on gossip, by topic, verdict (accept, reject, ignore) and reason."}, []string{"topic", "verdict", "reason"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "catchup_sessions_total",
			Help: "Catch-up sessions, served or pulled, by outcome and the budget reason that refused or cut them (none)."}, []string{"role", "outcome", "reason"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "catchup_bytes_total",
			Help: "Catch-up stream bytes, by role and direction (sent, received)."}, []string{"role", "direction"}),
		cuEnts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "catchup_entries_total",
			Help: "Entries sent (serve) or received (pull) by catch-up."}, []string{"role"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stream_refusals_total",
			Help: "Inbound streams refused or cut by the per-peer budgets, by protocol and reason."}, []string{"protocol", "reason"}),
	}
}

// register adds the collectors and the connected-peers gauge to reg.
func (m *metrics) register(reg prometheus.Registerer, peers func() int) error {
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "difronte", Subsystem: "federation", Name: "peers",
		Help: "Peers connected over libp2p."}, func() float64 { return float64(peers()) })
	var errs []error
	for _, c := range []prometheus.Collector{m.entries, m.sessions, m.bytes, m.cuEnts, m.refusals, gauge} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("federation metrics: %w", err)
	}
	return nil
}

func verdictLabel(res pubsub.ValidationResult) string {
	switch res {
	case pubsub.ValidationAccept:
		return "accept"
	case pubsub.ValidationReject:
		return "reject"
	}
	return "ignore"
}

// gossip counts one validator verdict.
func (m *metrics) gossip(topic string, res pubsub.ValidationResult, why topics.Reason) {
	m.entries.WithLabelValues(topic, verdictLabel(res), string(why)).Inc()
}

// catchup counts one catch-up session.
func (m *metrics) catchup(r catchup.Report) {
	reason := string(r.Reason)
	if reason == "" {
		reason = "none"
	}
	role := string(r.Role)
	m.sessions.WithLabelValues(role, string(r.Outcome), reason).Inc()
	m.bytes.WithLabelValues(role, "sent").Add(float64(r.BytesSent))
	m.bytes.WithLabelValues(role, "received").Add(float64(r.BytesReceived))
	m.cuEnts.WithLabelValues(role).Add(float64(r.Entries))
}

// streamRefused counts one stream refused or cut by a budget.
func (m *metrics) streamRefused(protocol, reason string) {
	m.refusals.WithLabelValues(protocol, reason).Inc()
}
