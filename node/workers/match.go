package workers

import (
	"cmp"
	"slices"
	"time"

	"github.com/difronte/difronte/schema"
)

// Need is what a family asks for, as matching reads it: no person's data,
// only the shape of the job.
type Need struct {
	Work         schema.WorkKind
	HoursPerWeek int
	LiveIn       bool
	Languages    []string
	Municipality string
	BudgetCents  int64 // a month; 0 means not said
}

// Note is one reason or gap of a match: a stable code, its values and
// the sentence in the reader's language (Texts.Render fills it).
type Note struct {
	Code string         `json:"code"`
	Args map[string]any `json:"args,omitempty"`
	Text string         `json:"text"`
}

// Match is one ranked profile with why it fits and what does not.
type Match struct {
	Profile Profile `json:"profile"`
	Score   int     `json:"score"`
	Reasons []Note  `json:"reasons"`
	Gaps    []Note  `json:"gaps"`
}

// MaxMatches is how many matches a request gets.
const MaxMatches = 20

// Match ranks the shown profiles that can do the job: the worker works in
// the municipality, does the kind of work, and lives in when asked. It
// reads only the profiles of the family's municipality and kind of work
// (the snapshot's index); MatchScan reads every one, the baseline of the
// benchmark.
func (p *Profiles) Match(n Need) []Match {
	s := p.current()
	now := p.clk.Now()
	var top []Match
	for _, i := range s.byArea[areaWork(n.Municipality, n.Work)] {
		top = p.consider(top, s.all[i], n, now)
	}
	return p.finish(top, n)
}

// MatchScan is Match by a plain scan of every profile.
func (p *Profiles) MatchScan(n Need) []Match {
	s := p.current()
	now := p.clk.Now()
	var top []Match
	for _, it := range s.all {
		if slices.Contains(it.Areas, n.Municipality) {
			top = p.consider(top, it, n, now)
		}
	}
	return p.finish(top, n)
}

// consider scores it and keeps the best MaxMatches in top. Reasons are
// built only for the kept ones, in finish.
func (p *Profiles) consider(top []Match, it *Profile, n Need, now time.Time) []Match {
	if !p.shown(it, now) || !slices.Contains(it.Work, n.Work) || n.LiveIn && !it.Availability.LiveIn {
		return top
	}
	score := scoreOf(it, n)
	if len(top) == MaxMatches && score <= top[len(top)-1].Score {
		return top
	}
	m := Match{Profile: *it, Score: score}
	i, _ := slices.BinarySearchFunc(top, score, func(x Match, s int) int { return cmp.Compare(s, x.Score) })
	top = slices.Insert(top, i, m)
	if len(top) > MaxMatches {
		top = top[:MaxMatches]
	}
	return top
}

func (p *Profiles) finish(top []Match, n Need) []Match {
	if top == nil {
		top = []Match{}
	}
	for i := range top {
		top[i].Profile = p.named(&top[i].Profile)
		top[i].Reasons, top[i].Gaps = explain(&top[i].Profile, n)
	}
	return top
}

// monthlyPay is the profile's asked pay for a month of n's hours.
func monthlyPay(it *Profile, hours int) int64 {
	if it.Pay.Unit == schema.PerMonth {
		return it.Pay.AmountCents
	}
	return it.Pay.AmountCents * int64(hours) * 52 / 12
}

// scoreOf: languages in common weigh most, then the budget, the hours,
// the night, certificates and experience.
func scoreOf(it *Profile, n Need) int {
	s := 0
	for _, l := range n.Languages {
		if slices.Contains(it.Languages, l) {
			s += 30
		}
	}
	if n.BudgetCents > 0 && monthlyPay(it, n.HoursPerWeek) <= n.BudgetCents {
		s += 25
	}
	if it.Availability.HoursPerWeek >= n.HoursPerWeek {
		s += 15
	}
	if n.Work == schema.WorkNight && it.Availability.Night {
		s += 10
	}
	s += 5 * len(it.Certificates)
	s += min(it.ExperienceYears, 20)
	return s
}

// explain lists the reasons a profile fits n and the gaps.
func explain(it *Profile, n Need) (reasons, gaps []Note) {
	reasons, gaps = []Note{}, []Note{}
	// The languages the family asked for that the worker speaks, and
	// Italian, which every family can use.
	var langs []string
	common := 0
	for _, l := range it.Languages {
		asked := slices.Contains(n.Languages, l)
		if asked {
			common++
		}
		if asked || l == "it" {
			langs = append(langs, l)
		}
	}
	if len(langs) > 0 {
		reasons = append(reasons, Note{Code: "speaks", Args: map[string]any{"Langs": langs}})
	}
	if len(n.Languages) > 0 && common == 0 {
		gaps = append(gaps, Note{Code: "no_language", Args: map[string]any{"Langs": n.Languages}})
	}
	if it.Availability.Night {
		reasons = append(reasons, Note{Code: "night"})
	}
	if it.Availability.LiveIn && n.LiveIn {
		reasons = append(reasons, Note{Code: "live_in"})
	}
	reasons = append(reasons, Note{Code: "works_in", Args: map[string]any{"Municipality": n.Municipality}})
	if it.ExperienceYears > 0 {
		reasons = append(reasons, Note{Code: "experience", Args: map[string]any{"Count": it.ExperienceYears}})
	}
	if len(it.Certificates) > 0 {
		reasons = append(reasons, Note{Code: "certificates", Args: map[string]any{"Certificates": it.Certificates}})
	}
	reasons = append(reasons, Note{Code: "verified", Args: map[string]any{"Coop": it.CoopName, "Date": it.CheckedOn}})
	pay := monthlyPay(it, n.HoursPerWeek)
	if n.BudgetCents > 0 && pay > n.BudgetCents {
		gaps = append(gaps, Note{Code: "over_budget", Args: map[string]any{"Cents": pay}})
	}
	if it.Availability.HoursPerWeek < n.HoursPerWeek {
		gaps = append(gaps, Note{Code: "fewer_hours", Args: map[string]any{"Count": it.Availability.HoursPerWeek}})
	}
	return reasons, gaps
}
