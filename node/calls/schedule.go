package calls

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Zone is where schedules are agreed: wall-clock times are Italian times,
// whatever the season.
const Zone = "Europe/Rome"

// maxOccurrences bounds one expansion: a schedule with a daily rule over a
// year is 366; nobody needs more in one agenda or feed.
const maxOccurrences = 2000

// Schedule is an agreed series of check-in calls for one beneficiary, with
// the caregiver who places them.
type Schedule struct {
	ID          string `json:"id"`
	Beneficiary string `json:"beneficiary"`
	// Caregiver is a caregiver id of this node, or "<peer id>/<caregiver id>"
	// for a caregiver of another coop holding a grant.
	Caregiver string `json:"caregiver"`
	// Rule is an RFC 5545 RRULE without DTSTART, e.g. "FREQ=WEEKLY;BYDAY=MO,TH".
	// Empty: only the Extra calls.
	Rule    string   `json:"rule,omitempty"`
	Time    string   `json:"time"`            // "10:00", wall clock in Zone
	Start   string   `json:"start"`           // first day, YYYY-MM-DD
	Until   string   `json:"until,omitempty"` // last day, YYYY-MM-DD, inclusive
	Minutes int      `json:"minutes"`         // expected length
	Except  []string `json:"except"`          // skipped days, YYYY-MM-DD
	// Extra are one-off calls, "YYYY-MM-DDTHH:MM" wall clock in Zone.
	Extra     []string  `json:"extra"`
	Archived  bool      `json:"archived,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Occurrence is one expected call.
type Occurrence struct {
	Schedule    string    `json:"schedule"`
	Beneficiary string    `json:"beneficiary"`
	Caregiver   string    `json:"caregiver"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Extra       bool      `json:"extra,omitempty"`
}

var (
	hhmmRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	dateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// rome loads the zone once per call site; time.LoadLocation caches.
func rome() *time.Location {
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		// The zone database is embedded by importing time/tzdata in the
		// binary (see tz.go), so this is a build defect.
		panic(fmt.Sprintf("load %s: %v", Zone, err))
	}
	return loc
}

func parseDay(s string, loc *time.Location) (time.Time, error) {
	if !dateRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD")
	}
	return time.ParseInLocation("2006-01-02", s, loc)
}

// Check returns field errors (field -> code) for a schedule.
func (s *Schedule) Check() map[string]string {
	bad := map[string]string{}
	loc := rome()
	if s.Beneficiary == "" {
		bad["beneficiary"] = "required"
	}
	if s.Caregiver == "" || len(s.Caregiver) > 200 {
		bad["caregiver"] = "required"
	}
	if !hhmmRE.MatchString(s.Time) {
		bad["time"] = "invalid"
	}
	start, err := parseDay(s.Start, loc)
	if err != nil {
		bad["start"] = "invalid"
	}
	if s.Until != "" {
		u, err := parseDay(s.Until, loc)
		if err != nil || (bad["start"] == "" && u.Before(start)) {
			bad["until"] = "invalid"
		}
	}
	if s.Minutes == 0 {
		s.Minutes = 15
	}
	if s.Minutes < 1 || s.Minutes > 240 {
		bad["minutes"] = "invalid"
	}
	if s.Rule == "" && len(s.Extra) == 0 {
		bad["rule"] = "required"
	}
	if s.Rule != "" {
		if len(s.Rule) > 300 || strings.ContainsAny(s.Rule, "\r\n") || strings.Contains(strings.ToUpper(s.Rule), "DTSTART") {
			bad["rule"] = "invalid"
		} else if o, err := rrule.StrToROptionInLocation(s.Rule, loc); err != nil {
			bad["rule"] = "invalid"
		} else if o.Freq > rrule.DAILY {
			// Hourly or finer would flood a frail person with calls.
			bad["rule"] = "too_frequent"
		}
	}
	if len(s.Except) > 500 {
		bad["except"] = "too_many"
	}
	for _, d := range s.Except {
		if _, err := parseDay(d, loc); err != nil {
			bad["except"] = "invalid"
		}
	}
	if len(s.Extra) > 500 {
		bad["extra"] = "too_many"
	}
	for _, x := range s.Extra {
		if _, err := time.ParseInLocation("2006-01-02T15:04", x, loc); err != nil {
			bad["extra"] = "invalid"
		}
	}
	if s.Except == nil {
		s.Except = []string{}
	}
	if s.Extra == nil {
		s.Extra = []string{}
	}
	return bad
}

// Between expands the schedule into the calls that start in [from, to),
// in time order. Wall-clock times stay put across daylight-saving changes
// (10:00 is 10:00 in winter and in summer); a time that does not exist on a
// spring-forward day moves an hour later, as the clocks do.
func (s *Schedule) Between(from, to time.Time) ([]Occurrence, error) {
	loc := rome()
	var out []Occurrence
	add := func(t time.Time, extra bool) {
		out = append(out, Occurrence{Schedule: s.ID, Beneficiary: s.Beneficiary, Caregiver: s.Caregiver,
			Start: t.UTC(), End: t.Add(time.Duration(s.Minutes) * time.Minute).UTC(), Extra: extra})
	}
	skip := map[string]bool{}
	for _, d := range s.Except {
		skip[d] = true
	}
	if s.Rule != "" {
		o, err := rrule.StrToROptionInLocation(s.Rule, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule %s rule: %w", s.ID, err)
		}
		day, err := parseDay(s.Start, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule %s start: %w", s.ID, err)
		}
		var hh, mm int
		fmt.Sscanf(s.Time, "%d:%d", &hh, &mm)
		o.Dtstart = time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, loc)
		// The rule's own time fields would fight the agreed time.
		o.Byhour, o.Byminute, o.Bysecond = []int{hh}, []int{mm}, []int{0}
		if s.Until != "" {
			u, err := parseDay(s.Until, loc)
			if err != nil {
				return nil, fmt.Errorf("schedule %s until: %w", s.ID, err)
			}
			end := u.AddDate(0, 0, 1).Add(-time.Second)
			if o.Until.IsZero() || end.Before(o.Until) {
				o.Until = end
			}
		}
		r, err := rrule.NewRRule(*o)
		if err != nil {
			return nil, fmt.Errorf("schedule %s rule: %w", s.ID, err)
		}
		// rrule works on wall clock in loc: a nonexistent 02:30 comes back
		// normalised by time.Date.
		next := r.Iterator()
		for n := 0; n < maxOccurrences*4; n++ {
			t, ok := next()
			if !ok || !t.Before(to) {
				break
			}
			if t.Before(from) || skip[t.In(loc).Format("2006-01-02")] {
				continue
			}
			add(t, false)
			if len(out) >= maxOccurrences {
				break
			}
		}
	}
	for _, x := range s.Extra {
		t, err := time.ParseInLocation("2006-01-02T15:04", x, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule %s extra: %w", s.ID, err)
		}
		if !t.Before(from) && t.Before(to) {
			add(t, true)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	out = slices.CompactFunc(out, func(a, b Occurrence) bool { return a.Start.Equal(b.Start) })
	return out, nil
}

// Agenda expands many schedules into one time-ordered list.
func Agenda(ss []Schedule, from, to time.Time) []Occurrence {
	var out []Occurrence
	for i := range ss {
		occ, err := ss[i].Between(from, to)
		if err != nil {
			continue // checked on save; an old bad record must not hide the rest
		}
		out = append(out, occ...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
