package search

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/schema"
)

// Qualifier says whether one offering of a publisher is qualified, by which
// authority and until when (zero: no end). It is set per publisher with
// SetQualified.
type Qualifier func(o schema.Offering) (authority string, until time.Time, ok bool)

// Qualification is what a result shows about a qualified offering.
type Qualification struct {
	Authority string    `json:"authority"`
	Until     time.Time `json:"until,omitzero"`
}

// SetQualified sets (nil: removes) the qualifier of a publisher and
// reindexes its offerings; the change is searchable after Sync.
func (x *Index) SetQualified(publisher string, fn Qualifier) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if fn == nil {
		delete(x.quals, publisher)
	} else {
		x.quals[publisher] = fn
	}
	x.queueLocked(publisher, "")
}

// QualificationOf returns the qualification of one offering, if it has a
// valid one now.
func (x *Index) QualificationOf(publisher, key string) (Qualification, bool) {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	num, ok := x.mem.byID.Get(docID(publisher, key), x.mem.idOf)
	if !ok {
		return Qualification{}, false
	}
	return x.mem.qualificationOf(num, x.cfg.Clock.Now())
}

func (m *mem) qualificationOf(num uint32, now time.Time) (Qualification, bool) {
	q := m.quals[num]
	if q == nil || (!q.Until.IsZero() && !now.Before(q.Until)) {
		return Qualification{}, false
	}
	return *q, true
}

// AnyQualified reports whether some offering holds a valid qualification:
// the "qualified only" filter is on by default once one does.
func (x *Index) AnyQualified() bool {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	valid, _, _ := x.mem.validQualified(x.cfg.Clock.Now())
	return !valid.IsEmpty()
}

// QualifiedPublishers lists the publishers with an offering the index holds
// as qualified. After a restart the index still has the qualifications it
// saved: the node compares them with the ones it verifies now and clears
// (SetQualified(p, nil)) those revoked while it was down.
func (x *Index) QualifiedPublishers() []string {
	x.mem.mu.RLock()
	defer x.mem.mu.RUnlock()
	seen := map[string]bool{}
	it := x.mem.qual.Iterator()
	for it.HasNext() {
		pub, _, _ := strings.Cut(x.mem.idOf(it.Next()), "/")
		seen[pub] = true
	}
	return slices.Sorted(maps.Keys(seen))
}
