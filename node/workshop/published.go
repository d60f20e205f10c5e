package workshop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/schema"
)

// How the figures reach the authority: the coop's node publishes them as
// one signed entry of its own log (schema.KindRefurbStats, key "current"),
// replaced whenever they change (an intake, a move, work logged) and once
// at start; gossip and catch-up bring it to every node, the authority's
// included, whose officers read every coop's latest figures from their own
// replica. Counts only: no worker, device, donor or person leaves the coop,
// and no figure is per worker.

// Publisher appends to the coop's own signed log (the node's federation).
type Publisher interface {
	Publish(ctx context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error)
}

// Replica reads the federation's current entries of a kind.
type Replica interface {
	Current(ctx context.Context, kind schema.Kind, fn func(*schema.Entry) error) error
}

// Federation is what the workshop needs from the federation; zero without
// one (nothing is published, the authority's view is empty).
type Federation struct {
	Log     Publisher
	Replica Replica
	Self    string                  // this node's publisher id
	Name    string                  // this coop's name, published with the figures
	Coop    func(pub string) string // a publisher's coop name (when its entry has none)
}

// system reads the registry for the published figures (care audits it).
var system = auth.Actor{Username: "system:workshop", Role: auth.Admin}

type publishing struct {
	mu   sync.Mutex
	last *schema.RefurbStats
}

// SetFederation connects the workshop to the federation after both are
// open, and publishes the current figures if the replica's differ.
func (s *Service) SetFederation(ctx context.Context, f Federation) error {
	s.pub.mu.Lock()
	s.fed = f
	s.pub.mu.Unlock()
	if f.Replica != nil && f.Self != "" {
		_ = f.Replica.Current(ctx, schema.KindRefurbStats, func(e *schema.Entry) error {
			var r schema.RefurbStats
			if e.Publisher == f.Self && !e.Tombstone && json.Unmarshal(e.Body, &r) == nil {
				s.pub.mu.Lock()
				s.pub.last = &r
				s.pub.mu.Unlock()
			}
			return nil
		})
	}
	return s.PublishFigures(ctx)
}

// PublishFigures publishes the coop's figures when they differ from the
// last ones published.
func (s *Service) PublishFigures(ctx context.Context) error {
	s.pub.mu.Lock()
	defer s.pub.mu.Unlock()
	if s.fed.Log == nil {
		return nil
	}
	st, err := s.figures(ctx, system)
	if err != nil {
		return fmt.Errorf("workshop figures: %w", err)
	}
	r := refurbStats(st)
	r.Coop, r.AsOf = cmp.Or(strings.TrimSpace(s.fed.Name), s.fed.Self), s.clk.Now().UTC().Format("2006-01-02T15:04:05Z")
	switch {
	case s.pub.last != nil && s.pub.last.SameFigures(r):
		return nil
	case s.pub.last == nil && r.Recovered == 0 && r.WorkMinutes == 0:
		return nil // no workshop here: nothing to tell the authority
	}
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := s.fed.Log.Publish(ctx, schema.KindRefurbStats, schema.RefurbStatsKey, body); err != nil {
		return fmt.Errorf("publish the workshop's figures: %w", err)
	}
	s.pub.last = &r
	return nil
}

// changed republishes after a change; a failure is retried at the next.
func (s *Service) changed(ctx context.Context) { _ = s.PublishFigures(context.WithoutCancel(ctx)) }

func refurbStats(st Stats) schema.RefurbStats {
	g := int(math.Round(KgPerDevice * 1000))
	return schema.RefurbStats{Recovered: st.Recovered, Delivered: st.Delivered, InService: st.InService, Retired: st.Retired,
		GramsAvoided: st.Delivered * g, GramsPerDevice: g, WorkMinutes: st.WorkMinutes, Workers: st.Workers}
}

// CoopFigures are one coop's published figures as the authority reads them.
type CoopFigures struct {
	Coop      string  `json:"coop"`
	Publisher string  `json:"publisher"`
	AsOf      string  `json:"as_of"`
	Recovered int     `json:"recovered"`
	Delivered int     `json:"delivered"`
	InService int     `json:"in_service"`
	Retired   int     `json:"retired"`
	KgAvoided float64 `json:"kg_avoided"`
	Hours     float64 `json:"hours_of_work"`
	Workers   int     `json:"workers"`
}

// FederationFigures are every coop's figures and their sum.
type FederationFigures struct {
	Coops []CoopFigures `json:"coops"`
	Total CoopFigures   `json:"total"`
}

// FederationStats is what the authority's officers (and a coop's admin)
// read: every coop's latest published figures, from the replica; audited.
func (s *Service) FederationStats(ctx context.Context, a auth.Actor) (FederationFigures, error) {
	if err := s.allow(ctx, a, "refurbstats", "", "list", auth.Officer, auth.Admin); err != nil {
		return FederationFigures{}, err
	}
	out := FederationFigures{Coops: []CoopFigures{}}
	s.pub.mu.Lock()
	f := s.fed
	s.pub.mu.Unlock()
	if f.Replica != nil {
		err := f.Replica.Current(ctx, schema.KindRefurbStats, func(e *schema.Entry) error {
			var r schema.RefurbStats
			if e.Tombstone || json.Unmarshal(e.Body, &r) != nil {
				return nil
			}
			name := r.Coop
			if f.Coop != nil && (name == "" || name == e.Publisher) {
				if n := f.Coop(e.Publisher); n != "" {
					name = n
				}
			}
			out.Coops = append(out.Coops, CoopFigures{Coop: name, Publisher: e.Publisher, AsOf: r.AsOf, Recovered: r.Recovered,
				Delivered: r.Delivered, InService: r.InService, Retired: r.Retired, KgAvoided: float64(r.GramsAvoided) / 1000,
				Hours: hours(r.WorkMinutes), Workers: r.Workers})
			return nil
		})
		if err != nil {
			return FederationFigures{}, err
		}
	}
	slices.SortFunc(out.Coops, func(x, y CoopFigures) int {
		return cmp.Or(cmp.Compare(x.Coop, y.Coop), cmp.Compare(x.Publisher, y.Publisher))
	})
	t := &out.Total
	for _, c := range out.Coops {
		t.Recovered += c.Recovered
		t.Delivered += c.Delivered
		t.InService += c.InService
		t.Retired += c.Retired
		t.KgAvoided += c.KgAvoided
		t.Hours += c.Hours
		t.Workers += c.Workers
	}
	t.KgAvoided, t.Hours = math.Round(t.KgAvoided*10)/10, math.Round(t.Hours*10)/10
	_ = s.record(ctx, a, audit.List, "refurbstats", "", "")
	return out, nil
}
