package schema

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

var cmpOr = cmp.Or[string]

// KindRefurbStats carries a coop's refurbishment figures (issue 15): the
// devices it recovered, delivered, has in service and retired, the e-waste
// they kept out and the hours of work they gave its workers. One entry per
// coop, keyed RefurbStatsKey, replaced when the figures change. It is how
// the figures reach the authority: signed by the coop's node like every
// entry, read from the replica by the authority's node. Counts only: no
// worker, device, donor or person is named, and no count is per worker.
const KindRefurbStats Kind = "refurbstats"

// RefurbStatsKey is the key of a coop's one refurbstats entry.
const RefurbStatsKey = "current"

// RefurbStats is the body of a refurbstats entry. Weights in grams and
// work in minutes keep every number an integer.
type RefurbStats struct {
	// Coop is the publishing coop's name, as its node is configured.
	Coop string `json:"coop"`
	// AsOf is when the coop's node computed the figures (RFC 3339, UTC).
	AsOf      string `json:"as_of"`
	Recovered int    `json:"recovered"`  // devices taken in, ever
	Delivered int    `json:"delivered"`  // devices delivered at least once
	InService int    `json:"in_service"` // in service now
	Retired   int    `json:"retired"`    // retired or recycled
	// GramsAvoided is the e-waste kept out: delivered devices times
	// GramsPerDevice, the coop's stated assumption.
	GramsAvoided   int `json:"grams_avoided"`
	GramsPerDevice int `json:"grams_per_device"`
	// WorkMinutes is the work the refurbishment gave, all workers
	// together; Workers is how many people logged some.
	WorkMinutes int `json:"work_minutes"`
	Workers     int `json:"workers"`
}

// maxFigure bounds every figure: far above any coop, below any overflow.
const maxFigure = 1_000_000_000

// Validate checks the figures are whole, bounded and consistent.
func (r *RefurbStats) Validate() error {
	if c := TextFault(r.Coop, 200, false); c != "" || strings.TrimSpace(r.Coop) == "" {
		return fmt.Errorf("refurbstats coop name: %s", cmpOr(c, "required"))
	}
	if _, err := time.Parse(time.RFC3339, r.AsOf); err != nil {
		return fmt.Errorf("refurbstats as_of: %w", err)
	}
	for name, v := range map[string]int{"recovered": r.Recovered, "delivered": r.Delivered, "in_service": r.InService,
		"retired": r.Retired, "grams_avoided": r.GramsAvoided, "grams_per_device": r.GramsPerDevice,
		"work_minutes": r.WorkMinutes, "workers": r.Workers} {
		if v < 0 || v > maxFigure {
			return fmt.Errorf("refurbstats %s %d out of range", name, v)
		}
	}
	if r.Delivered > r.Recovered || r.InService > r.Delivered || r.Retired > r.Recovered {
		return errors.New("refurbstats: delivered, in service and retired cannot exceed the devices recovered")
	}
	if r.GramsAvoided != r.Delivered*r.GramsPerDevice {
		return errors.New("refurbstats: grams_avoided is delivered times grams_per_device")
	}
	return nil
}

// SameFigures says whether two bodies hold the same figures, whenever
// they were computed.
func (r RefurbStats) SameFigures(o RefurbStats) bool {
	r.AsOf, o.AsOf = "", ""
	return r == o
}

func refurbStatsBody(key string, body []byte) error {
	if key != RefurbStatsKey {
		return fmt.Errorf("refurbstats key %q; want %q", key, RefurbStatsKey)
	}
	var r RefurbStats
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	return r.Validate()
}
