package webui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
)

// Schedules said in words: "lunedì e giovedì alle 10:00 con Giulia
// Ferrari" / "Monday and Thursday at 10:00 with Giulia Ferrari".

// ruleParts splits an RRULE into its parts, names upper-cased.
func ruleParts(rule string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(rule, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			m[strings.ToUpper(k)] = strings.ToUpper(v)
		}
	}
	return m
}

// weeklyDays returns the week days of a rule the form can show as ticked
// days: weekly (or daily) every week, on plain days, with no other part.
func weeklyDays(rule string) ([]string, bool) {
	m := ruleParts(rule)
	if iv, ok := m["INTERVAL"]; ok && iv != "1" {
		return nil, false
	}
	delete(m, "INTERVAL")
	delete(m, "WKST")
	switch {
	case m["FREQ"] == "DAILY" && len(m) == 1:
		return slices.Clone(weekDays), true
	case m["FREQ"] != "WEEKLY" || len(m) != 2 || m["BYDAY"] == "":
		return nil, false
	}
	var days []string
	for _, d := range weekDays {
		if slices.Contains(strings.Split(m["BYDAY"], ","), d) {
			days = append(days, d)
		}
	}
	for _, d := range strings.Split(m["BYDAY"], ",") {
		if !slices.Contains(weekDays, d) {
			return nil, false // "1MO", "-1FR": not a plain day
		}
	}
	return days, true
}

// List joins words as the page language does: "a, b e c" / "a, b and c".
func (p *page) List(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + p.T("words.and") + " " + words[len(words)-1]
}

// DayOf shows a "YYYY-MM-DD" day in the page language's order.
func (p *page) DayOf(s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return t.Format(dayLayout(p.Lang))
}

// scheduleNames names the caregivers of schedules: this coop's by their
// record, other coops' by the name their grant gives them.
func (u *ui) scheduleNames(r *http.Request, ss []calls.Schedule) map[string]string {
	names := map[string]string{}
	ids, ns := u.caregiverChoices(r)
	for i, id := range ids {
		names[id] = ns[i]
	}
	remote := false
	for _, s := range ss {
		remote = remote || strings.Contains(s.Caregiver, "/")
	}
	// Grants are the admin's to read; others read "a caregiver of another
	// coop".
	if !remote || u.d.Calls == nil || actor(r).Role != auth.Admin {
		return names
	}
	gs, err := u.d.Calls.Grants(ctx(r), actor(r))
	if err != nil {
		return names
	}
	coops := u.coopNames()
	for _, g := range gs {
		label := g.Name
		if label == "" {
			label = g.Caregiver
		}
		if c := coops[g.Node]; c != "" {
			label += " (" + c + ")"
		}
		names[g.Node+"/"+g.Caregiver] = label
	}
	return names
}

// ScheduleWords says a schedule in words, in the page language.
func (p *page) ScheduleWords(s calls.Schedule, names map[string]string) string {
	who := names[s.Caregiver]
	switch {
	case who != "":
	case strings.Contains(s.Caregiver, "/"):
		who = p.T("sched.remote_caregiver")
	default:
		who = p.T("sched.unknown_caregiver")
	}
	var out string
	m := ruleParts(s.Rule)
	days, weekly := weeklyDays(s.Rule)
	switch {
	case s.Rule == "":
		out = p.T("sched.words_extra_only", "Caregiver", who)
	case weekly:
		out = p.T("sched.words", "Days", p.days(days), "Time", s.Time, "Caregiver", who)
	case m["FREQ"] == "WEEKLY" && m["BYDAY"] != "" && len(m) == 3 && m["INTERVAL"] != "":
		ds, ok := weeklyDays("FREQ=WEEKLY;BYDAY=" + m["BYDAY"])
		n, err := strconv.Atoi(m["INTERVAL"])
		if !ok || err != nil {
			out = p.T("sched.words_rule", "Rule", s.Rule, "Time", s.Time, "Caregiver", who)
			break
		}
		out = p.T("sched.words_weeks", "Count", n, "Days", p.days(ds), "Time", s.Time, "Caregiver", who)
	default:
		out = p.T("sched.words_rule", "Rule", s.Rule, "Time", s.Time, "Caregiver", who)
	}
	var more []string
	if s.Start != "" && s.Start > p.u.d.Clock.Now().In(p.u.d.Location).Format("2006-01-02") {
		more = append(more, p.T("sched.from", "Day", p.DayOf(s.Start)))
	}
	if s.Until != "" {
		more = append(more, p.T("sched.until_words", "Day", p.DayOf(s.Until)))
	}
	if len(more) > 0 {
		out += ", " + strings.Join(more, ", ")
	}
	if len(s.Extra) > 0 {
		var xs []string
		for _, x := range s.Extra {
			d, hm, _ := strings.Cut(x, "T")
			xs = append(xs, p.T("sched.at_day", "Day", p.DayOf(d), "Time", hm))
		}
		out += "; " + p.T("sched.extra_words", "Days", p.List(xs))
	}
	if len(s.Except) > 0 {
		var xs []string
		for _, d := range s.Except {
			xs = append(xs, p.DayOf(d))
		}
		out += "; " + p.T("sched.except_words", "Days", p.List(xs))
	}
	return out
}

// days says week days: "lunedì e giovedì", or "ogni giorno" for all seven.
func (p *page) days(ds []string) string {
	if len(ds) == len(weekDays) {
		return p.T("sched.every_day")
	}
	words := make([]string, len(ds))
	for i, d := range ds {
		words[i] = p.T("sched.day." + d)
	}
	return p.List(words)
}
