package escalation

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

// Count is one bar of a chart.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// MonthRow is one month of the dashboard.
type MonthRow struct {
	Month    string `json:"month"` // YYYY-MM
	Done     int    `json:"done"`
	Missed   int    `json:"missed"`
	Problems int    `json:"problems"`
}

// CaregiverRow is one caregiver of the dashboard.
type CaregiverRow struct {
	Caregiver string `json:"caregiver"`
	Done      int    `json:"done"`
	Missed    int    `json:"missed"`
	Problems  int    `json:"problems"`
	Open      int    `json:"open"`
}

// OpenCase is an open case and how long it has been open.
type OpenCase struct {
	ID          string    `json:"id"`
	Beneficiary string    `json:"beneficiary"`
	Kind        string    `json:"kind"`
	Urgency     string    `json:"urgency"`
	Source      string    `json:"source"`
	OpenedAt    time.Time `json:"opened_at"`
	AgeHours    int       `json:"age_hours"`
}

// Dashboard is how the coop's care is going between From and To.
type Dashboard struct {
	From           time.Time      `json:"from"`
	To             time.Time      `json:"to"`
	Done           int            `json:"done"`
	Missed         int            `json:"missed"`
	Problems       int            `json:"problems"`
	ByMonth        []MonthRow     `json:"by_month"`
	ByCaregiver    []CaregiverRow `json:"by_caregiver"`
	ByKind         []Count        `json:"by_kind"`
	ByMunicipality []Count        `json:"by_municipality"`
	Open           []OpenCase     `json:"open"`
}

// Dashboard computes the figures for [from, to). Admins only.
func (s *Service) Dashboard(ctx context.Context, a auth.Actor, from, to time.Time) (Dashboard, error) {
	if a.Role != auth.Admin {
		return Dashboard{}, s.deny(ctx, a, "dashboard", "", "read")
	}
	s.cfg.Audit.Note(s.event(a, audit.Read, "dashboard", "", ""))
	now := s.now()
	d := Dashboard{From: from.UTC(), To: to.UTC()}
	months := map[string]*MonthRow{}
	month := func(t time.Time) *MonthRow {
		k := t.UTC().Format("2006-01")
		if months[k] == nil {
			months[k] = &MonthRow{Month: k}
		}
		return months[k]
	}
	cgs := map[string]*CaregiverRow{}
	cg := func(id string) *CaregiverRow {
		if id == "" {
			id = "-"
		}
		if cgs[id] == nil {
			cgs[id] = &CaregiverRow{Caregiver: id}
		}
		return cgs[id]
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	s.windows.Filter(func(w *Window) bool {
		// A contact counts when it was made: a call answered in the hour
		// before the agreed time closes the window before it starts.
		at := w.Start
		if w.State == WindowDone && !w.ClosedAt.IsZero() {
			at = w.ClosedAt
		}
		if !in(at) {
			return false
		}
		switch w.State {
		case WindowDone:
			d.Done++
			month(at).Done++
			cg(w.Caregiver).Done++
		case WindowMissed:
			d.Missed++
			month(w.Start).Missed++
			cg(w.Caregiver).Missed++
		}
		return false
	})
	// A call answered outside any agreed window (a call back, an extra
	// call) is a contact made too.
	for _, c := range s.contactsOutsideWindows(from, to) {
		d.Done++
		month(c.At).Done++
		cg(c.Caregiver).Done++
	}
	kinds, munis := map[string]int{}, map[string]int{}
	s.cases.Filter(func(c *Case) bool {
		if c.State == CaseOpen {
			d.Open = append(d.Open, OpenCase{ID: c.ID, Beneficiary: c.Beneficiary, Kind: c.Kind, Urgency: c.Urgency, Source: c.Source,
				OpenedAt: c.OpenedAt, AgeHours: int(now.Sub(c.OpenedAt).Hours())})
			cg(c.Caregiver).Open++
		}
		if c.Source != "outcome" || !in(c.OpenedAt) {
			return false
		}
		d.Problems++
		month(c.OpenedAt).Problems++
		cg(c.Caregiver).Problems++
		kinds[c.Kind]++
		munis[c.Municipality]++
		return false
	})
	for _, m := range months {
		d.ByMonth = append(d.ByMonth, *m)
	}
	slices.SortFunc(d.ByMonth, func(a, b MonthRow) int { return strings.Compare(a.Month, b.Month) })
	for _, c := range cgs {
		d.ByCaregiver = append(d.ByCaregiver, *c)
	}
	slices.SortFunc(d.ByCaregiver, func(a, b CaregiverRow) int { return strings.Compare(a.Caregiver, b.Caregiver) })
	d.ByKind, d.ByMunicipality = counts(kinds), counts(munis)
	slices.SortFunc(d.Open, func(a, b OpenCase) int { return a.OpenedAt.Compare(b.OpenedAt) })
	return d, nil
}

func counts(m map[string]int) []Count {
	out := []Count{}
	for k, n := range m {
		out = append(out, Count{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(b.N-a.N, strings.Compare(a.Key, b.Key)) })
	return out
}

// BarSVG draws a horizontal bar chart as standalone SVG: readable without
// JavaScript or CSS, with a title and a text value on every bar for screen
// readers and print. label turns a key into the text shown.
func BarSVG(title string, rows []Count, label func(string) string) string {
	const w, barH, gap, labelW, top = 480, 22, 8, 180, 8
	h := top*2 + len(rows)*(barH+gap)
	if len(rows) == 0 {
		h = 40
	}
	maxN := 1
	for _, r := range rows {
		maxN = max(maxN, r.N)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" aria-labelledby="t">`, w, h, w, h)
	fmt.Fprintf(&b, `<title id="t">%s</title>`, html.EscapeString(title))
	if len(rows) == 0 {
		b.WriteString(`<text x="8" y="24" font-family="sans-serif" font-size="14" fill="#222">—</text>`)
	}
	for i, r := range rows {
		y := top + i*(barH+gap)
		bw := (w - labelW - 60) * r.N / maxN
		name := r.Key
		if label != nil {
			name = label(r.Key)
		}
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" text-anchor="end" font-family="sans-serif" font-size="14" fill="#222">%s</text>`,
			labelW-8, y+barH-6, html.EscapeString(name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#1f5fa8"/>`, labelW, y, max(bw, 1), barH)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="14" fill="#222">%d</text></g>`, labelW+max(bw, 1)+6, y+barH-6, r.N)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// WriteCSV writes the dashboard as one table: section, key, month, value,
// name. names maps caregiver ids to the names shown in the name column of
// their rows (the key stays the id, so rows of one caregiver group).
func (d Dashboard) WriteCSV(w io.Writer, names map[string]string) error {
	cw := csv.NewWriter(w)
	row := func(rec ...string) { _ = cw.Write(append(rec, make([]string, 5-len(rec))...)) }
	row("section", "key", "month", "value", "name")
	row("checkins_done", "", "", strconv.Itoa(d.Done))
	row("checkins_missed", "", "", strconv.Itoa(d.Missed))
	row("problems", "", "", strconv.Itoa(d.Problems))
	for _, m := range d.ByMonth {
		row("month_done", "", m.Month, strconv.Itoa(m.Done))
		row("month_missed", "", m.Month, strconv.Itoa(m.Missed))
		row("month_problems", "", m.Month, strconv.Itoa(m.Problems))
	}
	for _, c := range d.ByCaregiver {
		id, name := csvSafe(c.Caregiver), csvSafe(names[c.Caregiver])
		row("caregiver_done", id, "", strconv.Itoa(c.Done), name)
		row("caregiver_missed", id, "", strconv.Itoa(c.Missed), name)
		row("caregiver_problems", id, "", strconv.Itoa(c.Problems), name)
		row("caregiver_open", id, "", strconv.Itoa(c.Open), name)
	}
	for _, c := range d.ByKind {
		row("problem_kind", c.Key, "", strconv.Itoa(c.N))
	}
	for _, c := range d.ByMunicipality {
		row("problem_municipality", c.Key, "", strconv.Itoa(c.N))
	}
	for _, c := range d.Open {
		row("open_case_age_hours", c.ID, c.OpenedAt.Format("2006-01"), strconv.Itoa(c.AgeHours))
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
