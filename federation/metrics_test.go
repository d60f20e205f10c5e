package federation

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/federation/catchup"
	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// allowedLabels are the fixed sets every federation metric label comes
// from.
func allowedLabels() map[string][]string {
	var reasons, outcomes, budgets, protocols []string
	for _, r := range topics.Reasons() {
		reasons = append(reasons, string(r))
	}
	for _, o := range catchup.Outcomes() {
		outcomes = append(outcomes, string(o))
	}
	for _, r := range budget.Reasons() {
		budgets = append(budgets, string(r))
	}
	for p := range streamLimits() {
		protocols = append(protocols, string(p))
	}
	protocols = append(protocols, string(catchup.ProtocolID), otherProtocol)
	return map[string][]string{
		"topic":     topics.All(),
		"verdict":   {"accept", "reject", "ignore"},
		"reason":    append(append(reasons, budgets...), "none"),
		"role":      {string(catchup.Served), string(catchup.Pulled)},
		"outcome":   outcomes,
		"direction": {"sent", "received"},
		"protocol":  protocols,
	}
}

// checkLabels fails on a federation metric whose label value is not in its
// fixed set, and returns the families by name.
func checkLabels(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	out := gather(t, reg)
	allowed := allowedLabels()
	for _, f := range out {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				set, ok := allowed[l.GetName()]
				if !ok || !slices.Contains(set, l.GetValue()) {
					t.Errorf("%s: label %s=%q outside the fixed sets", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	return out
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func sum(f *dto.MetricFamily, match map[string]string) float64 {
	total := 0.0
	for _, m := range f.GetMetric() {
		ok := true
		for _, l := range m.GetLabel() {
			if v, want := match[l.GetName()]; want && v != l.GetValue() {
				ok = false
			}
		}
		if ok {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}

// TestMetrics: two nodes on loopback exchange an entry by gossip and by
// catch-up, and one opens streams of a protocol the other serves through
// Host() until its budget refuses them. Every federation metric moves,
// and every label comes from a fixed set.
func TestMetrics(t *testing.T) {
	defer goleak.VerifyNone(t, loopbackLeaks()...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	ca := loopbackConfig(t)
	ca.Metrics = regA
	a, err := New(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cb := loopbackConfig(t)
	cb.Metrics, cb.Bootstrap = regB, a.Addrs()[:1]
	b, err := New(cb)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// Publish once b knows a is on the topic, so that gossip carries it.
	for b.TopicPeers()[topics.Catalogue] == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("a never joined the catalogue topic as b sees it")
		case <-time.After(10 * time.Millisecond):
		}
	}
	const id = "0b6f9c4e-8f0e-4d8a-9a51-2f2b6c1d3e4f"
	if _, err := b.Publish(ctx, schema.KindOffering, id, offering(t, id)); err != nil {
		t.Fatal(err)
	}
	waitEqual(t, ctx, a, b)
	// The entry may come by catch-up first; gossip's copy is then
	// ignored as a duplicate, but counted all the same.
	for sum(gather(t, regA)["difronte_federation_gossip_entries_total"], map[string]string{"topic": topics.Catalogue}) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("no gossip verdict counted")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := a.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}

	// A protocol outside the table: the default budget, 100 streams at once.
	const proto = "/difronte/test-echo/1"
	a.Host().SetStreamHandler(proto, func(s network.Stream) { _ = s.Close() })
	refused := 0
	for range defaultStreamLimits.SessionBurst + 20 {
		if !streamServed(ctx, b, a.Host().ID(), proto) {
			refused++
		}
	}
	if refused == 0 {
		t.Fatalf("%d streams in a burst, none refused", defaultStreamLimits.SessionBurst+20)
	}

	fa := checkLabels(t, regA)
	checkLabels(t, regB)
	for name, match := range map[string]map[string]string{
		"difronte_federation_catchup_sessions_total": {"role": "pull"},
		"difronte_federation_catchup_bytes_total":    {"role": "pull", "direction": "received"},
		"difronte_federation_stream_refusals_total":  {"protocol": otherProtocol, "reason": string(budget.Sessions)},
		"difronte_federation_peers":                  {},
	} {
		f := fa[name]
		if f == nil || sum(f, match) == 0 {
			t.Errorf("%s %v: no count", name, match)
		}
	}
	// A counts a refusal beside resetting the stream, so B may see the
	// last reset before A's count moves: wait for it, a bounded while.
	got := sum(fa["difronte_federation_stream_refusals_total"], nil)
	poll.Wait(5*time.Second, 10*time.Millisecond, func() bool {
		got = sum(gather(t, regA)["difronte_federation_stream_refusals_total"], nil)
		return int(got) >= refused
	})
	if int(got) != refused {
		t.Errorf("%v refusals counted, %d made", got, refused)
	}
}

// streamServed opens a stream of proto to p and reports whether the
// handler answered (closed it) rather than the budget (reset it).
func streamServed(ctx context.Context, f *Federation, p peer.ID, proto string) bool {
	s, err := f.Host().NewStream(ctx, p, protocol.ID(proto))
	if err != nil {
		return false
	}
	defer s.Close()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = s.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}
