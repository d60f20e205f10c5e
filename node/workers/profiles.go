package workers

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/schema"
)

// Profile is one public worker profile of the federation as families see
// it: the signed profile, the vouching coop and when it was published.
type Profile struct {
	schema.WorkerProfile
	Publisher string    `json:"publisher"`
	CoopName  string    `json:"coop_name"`
	Seq       uint64    `json:"seq"`
	IssuedAt  time.Time `json:"issued_at"`

	checked time.Time // CheckedOn parsed once, at Apply
}

// Ref is the public reference of a profile: publisher and id.
func (p *Profile) Ref() string { return p.Publisher + "/" + p.ID }

// Source is the replica as the profiles view reads it;
// federation/replica.Replica implements it.
type Source interface {
	OnChange(fn func(old, cur *schema.Entry))
	Current(ctx context.Context, kind schema.Kind, fn func(*schema.Entry) error) error
}

// Profiles is the node's view of every public worker profile of the
// federation, kept in step with the replica. Reads take an immutable
// snapshot (rebuilt after a change, at the next read), so matching and
// search run without locks while gossip applies changes.
type Profiles struct {
	clk   clock.Clock
	coops func(publisher string) string

	mu    sync.Mutex
	items map[string]*Profile // publisher + "\x00" + id
	dirty atomic.Bool         // set under mu; read without it by current
	snap  atomic.Pointer[snapshot]
}

// snapshot is the profiles at one moment, ordered, with an index by
// municipality and kind of work.
type snapshot struct {
	all    []*Profile
	byArea map[string][]int32 // ISTAT code + "/" + kind of work → indexes into all, ascending
}

// NewProfiles reads the worker profiles src holds and follows its changes.
// coops names a publisher's coop (may be nil).
func NewProfiles(ctx context.Context, src Source, clk clock.Clock, coops func(string) string) (*Profiles, error) {
	p := &Profiles{clk: clock.Or(clk), coops: coops, items: map[string]*Profile{}}
	p.dirty.Store(true)
	if src == nil {
		return p, nil
	}
	src.OnChange(func(_, cur *schema.Entry) {
		if cur.Kind == schema.KindWorker {
			p.Apply(cur)
		}
	})
	if err := src.Current(ctx, schema.KindWorker, func(e *schema.Entry) error { p.Apply(e); return nil }); err != nil {
		return nil, fmt.Errorf("load worker profiles: %w", err)
	}
	return p, nil
}

// Apply takes one worker entry: a newer profile replaces the older, a
// tombstone removes it.
func (p *Profiles) Apply(e *schema.Entry) {
	id := e.Publisher + "\x00" + e.Key
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.items[id]; ok && old.Seq >= e.Seq {
		return
	}
	if e.Tombstone {
		if _, ok := p.items[id]; ok {
			delete(p.items, id)
			p.dirty.Store(true)
		}
		return
	}
	var w schema.WorkerProfile
	if json.Unmarshal(e.Body, &w) != nil {
		return // the replica validated it; nothing else to do
	}
	checked, _ := time.Parse(time.DateOnly, w.CheckedOn)
	p.items[id] = &Profile{WorkerProfile: w, Publisher: e.Publisher, Seq: e.Seq, IssuedAt: e.IssuedAt, checked: checked}
	p.dirty.Store(true)
}

// current returns the snapshot, rebuilding it after changes.
func (p *Profiles) current() *snapshot {
	if !p.dirty.Load() {
		if s := p.snap.Load(); s != nil {
			return s // the common case: no lock between concurrent matches
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.snap.Load(); s != nil && !p.dirty.Load() {
		return s
	}
	s := &snapshot{all: make([]*Profile, 0, len(p.items)), byArea: map[string][]int32{}}
	for _, it := range p.items {
		s.all = append(s.all, it)
	}
	slices.SortFunc(s.all, func(a, b *Profile) int {
		return cmp.Or(strings.Compare(a.Alias, b.Alias), strings.Compare(a.Publisher, b.Publisher), strings.Compare(a.ID, b.ID))
	})
	for i, it := range s.all {
		for _, a := range it.Areas {
			for _, w := range it.Work {
				k := areaWork(a, w)
				s.byArea[k] = append(s.byArea[k], int32(i))
			}
		}
	}
	p.dirty.Store(false)
	p.snap.Store(s)
	return s
}

// shown reports whether a profile may be shown now: checked in the last
// six months.
func (p *Profiles) shown(it *Profile, now time.Time) bool {
	return !it.checked.IsZero() && now.Sub(it.checked) <= schema.WorkerCheckValidity
}

func areaWork(area string, w schema.WorkKind) string { return area + "/" + string(w) }

// Get returns one shown profile, with its coop's name.
func (p *Profiles) Get(publisher, id string) (Profile, bool) {
	p.mu.Lock()
	it, ok := p.items[publisher+"\x00"+id]
	p.mu.Unlock()
	if !ok || !p.shown(it, p.clk.Now()) {
		return Profile{}, false
	}
	return p.named(it), true
}

// Count returns how many profiles are shown now.
func (p *Profiles) Count() int {
	now := p.clk.Now()
	n := 0
	for _, it := range p.current().all {
		if p.shown(it, now) {
			n++
		}
	}
	return n
}

func (p *Profiles) named(it *Profile) Profile {
	out := *it
	out.CoopName = it.Coop
	if p.coops != nil {
		if name := p.coops(it.Publisher); name != "" {
			out.CoopName = name
		}
	}
	return out
}

// ByID returns the shown profile with id, whoever published it (ids are
// random UUIDs): the public page /lavoro/{profile} names it by id alone.
func (p *Profiles) ByID(id string) (Profile, bool) {
	now := p.clk.Now()
	for _, it := range p.current().all {
		if it.ID == id && p.shown(it, now) {
			return p.named(it), true
		}
	}
	return Profile{}, false
}
