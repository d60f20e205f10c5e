package requests

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// Demand kinds.
const (
	DemandRequest    = "request"
	DemandDecline    = "decline"
	DemandUnanswered = "unanswered"
	DemandNoResult   = "no_result"
)

// DemandCount is one counter of the demand record: how many of a kind,
// for a category in a municipality. It holds no personal data.
type DemandCount struct {
	Kind         string `json:"kind"`
	Category     string `json:"category"`
	Municipality string `json:"municipality"`
	Count        uint64 `json:"count"`
}

// demand is the demand record, kept in memory and written in batches
// (flush, every minute and at close): neither a request nor a search,
// which anyone may run, waits for a synced write of a counter, and a
// crash loses at most a minute of counts, never a request.
type demand struct {
	d     store.Namespace
	mu    sync.Mutex
	n     map[string]uint64 // kind \x00 category \x00 municipality
	dirty map[string]bool   // counts not written yet
}

const demandPrefix = "/demand/"

func loadDemand(ctx context.Context, d store.Namespace) (*demand, error) {
	m := &demand{d: d, n: map[string]uint64{}, dirty: map[string]bool{}}
	err := store.Each(ctx, d, demandPrefix, func(k string, v []byte) error {
		var c DemandCount
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		m.n[c.Kind+"\x00"+c.Category+"\x00"+c.Municipality] = c.Count
		return nil
	})
	return m, err
}

// addLater counts; flush writes the count.
func (m *demand) addLater(kind, category, municipality string) {
	k := kind + "\x00" + category + "\x00" + municipality
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n[k]++
	m.dirty[k] = true
}

// flush writes the counts added since the last flush, without holding
// the lock while it writes (a search counting meanwhile does not wait).
// The loop and Close call it one after the other, never at once.
func (m *demand) flush(ctx context.Context) {
	m.mu.Lock()
	todo := make(map[string]uint64, len(m.dirty))
	for k := range m.dirty {
		todo[k] = m.n[k]
	}
	clear(m.dirty)
	m.mu.Unlock()
	for k, n := range todo {
		if err := m.write(ctx, k, n); err != nil {
			m.mu.Lock()
			m.dirty[k] = true // next time
			m.mu.Unlock()
		}
	}
}

// write stores count n of k.
func (m *demand) write(ctx context.Context, k string, n uint64) error {
	p := strings.SplitN(k, "\x00", 3)
	c := DemandCount{Kind: p[0], Category: p[1], Municipality: p[2], Count: n}
	b, _ := json.Marshal(c)
	cat, mun := strings.NewReplacer("/", "_").Replace(c.Category), c.Municipality
	if cat == "" {
		cat = "_" // a search with no category: "_" is no taxonomy code
	}
	if mun == "" {
		mun = "_"
	}
	return m.d.Put(ctx, ds.NewKey(demandPrefix+c.Kind+"/"+cat+"/"+mun), b)
}

func (m *demand) list() []DemandCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DemandCount, 0, len(m.n))
	for k, n := range m.n {
		p := strings.SplitN(k, "\x00", 3)
		out = append(out, DemandCount{Kind: p[0], Category: p[1], Municipality: p[2], Count: n})
	}
	slices.SortFunc(out, func(a, b DemandCount) int {
		return strings.Compare(a.Kind+a.Category+a.Municipality, b.Kind+b.Category+b.Municipality)
	})
	return out
}

// Demand returns the demand record: to the node's admin and, on an
// authority's node, its officers. It holds counts only.
func (s *Service) Demand(ctx context.Context, a auth.Actor) ([]DemandCount, error) {
	if a.Role != auth.Admin && a.Role != auth.Officer {
		return nil, problem.ErrForbidden
	}
	s.note(a, audit.List, "demand", "")
	return s.dem.list(), nil
}

// NoResult counts a catalogue search with no result for category (may be
// "") in municipality (may be ""). It does not wait for the disk: the
// counts are written every minute and when the service closes (a crash
// loses at most a minute of them).
func (s *Service) NoResult(_ context.Context, category, municipality string) {
	s.dem.addLater(DemandNoResult, category, municipality)
}

// FlushDemand writes the counts NoResult has not written yet.
func (s *Service) FlushDemand(ctx context.Context) { s.dem.flush(ctx) }

// remindLoop checks for unanswered requests every quarter of RemindAfter
// (at most hourly).
func (s *Service) remindLoop() {
	defer s.wg.Done()
	every := min(s.cfg.RemindAfter/4, time.Hour)
	t := s.cfg.Clock.NewTicker(every)
	defer t.Stop()
	f := s.cfg.Clock.NewTicker(time.Minute)
	defer f.Stop()
	for {
		select {
		case <-s.stop:
			s.dem.flush(context.Background())
			return
		case <-t.C():
			s.Remind(context.Background())
		case <-f.C():
			s.dem.flush(context.Background())
		}
	}
}

// Remind reminds the provider of each request left unanswered for
// RemindAfter, flags it on the citizen's side and counts it once.
func (s *Service) Remind(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now().UTC()
	late := func(t time.Time) bool { return now.Sub(t) >= s.cfg.RemindAfter }
	for _, r := range s.inbox.Filter(func(r *Request) bool { return r.State == StateOpen && !r.Reminded && late(r.Created) }) {
		r.Reminded = true
		if err := s.inbox.Put(ctx, r); err != nil {
			s.log.Error("cannot mark a reminder", "request", r.ID, "err", err)
			continue
		}
		s.notify(ctx, NoteReminder, r.ID, "")
		_ = s.record(ctx, systemActor, audit.Update, "request", r.ID, "reminder")
	}
	for _, r := range s.mine.Filter(func(r *Request) bool { return r.Case == "" }) {
		changed := false
		for i, d := range r.Deliveries {
			if d.State != StateOpen || d.Flagged || !late(d.At) {
				continue
			}
			r.Deliveries[i].Flagged, changed = true, true
			for _, of := range r.Offerings {
				if of.Publisher == d.Provider {
					s.dem.addLater(DemandUnanswered, of.Category, r.Municipality)
				}
			}
		}
		if changed {
			if err := s.mine.Put(ctx, r); err != nil {
				s.log.Error("cannot flag a request", "request", r.ID, "err", err)
				continue
			}
			s.notify(ctx, NoteUnanswered, r.ID, r.Citizen)
		}
	}
}
