package webui

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// The agenda answers "whom do I call now?": each agreed call is now (from
// a quarter of an hour before it until its end), late (its end passed
// with no call answered), next, or done (a call to the person was
// answered since an hour before it), with the terminal's state and the
// notes that matter for a call.

// callSoon is how early an agreed call counts as "now".
const callSoon = 15 * time.Minute

// sortAgenda fills each row's state, terminal and notes.
func (u *ui) sortAgenda(r *http.Request, p *page, now time.Time, rows []agendaRow) {
	answered := map[string][]time.Time{}
	notes := map[string]string{}
	health := map[string][]healthBrief{}
	for i := range rows {
		row := &rows[i]
		if row.Node == "" {
			ben := row.Beneficiary
			if _, ok := answered[ben]; !ok {
				answered[ben] = []time.Time{}
				for _, rec := range u.d.Calls.Records(actor(r), ben) {
					if rec.Answered {
						answered[ben] = append(answered[ben], rec.AnsweredAt)
					}
				}
				notes[ben] = u.callNote(r, p, ben)
				health[ben] = u.personHealth(r, p, ben)
			}
			row.Online = u.d.Calls.Hub().Online(ben)
			row.Note, row.Health = notes[ben], health[ben]
		}
		done := slices.ContainsFunc(answered[row.Beneficiary], func(t time.Time) bool {
			return !t.Before(row.Start.Add(-time.Hour)) && (row.End.IsZero() || !t.After(row.End.Add(2*time.Hour)))
		})
		switch {
		case done:
			row.State = "done"
		case !row.End.IsZero() && now.After(row.End):
			row.State = "late"
		case !now.Before(row.Start.Add(-callSoon)):
			row.State = "now"
		default:
			row.State = "next"
		}
	}
}

// callNote is what a caregiver should know before calling: the record's
// fragility and the first line of its notes (an audited read, as the
// agenda's reader).
func (u *ui) callNote(r *http.Request, p *page, ben string) string {
	b, err := u.d.Care.Beneficiary(ctx(r), actor(r), ben)
	if err != nil {
		return ""
	}
	var parts []string
	for _, f := range b.Fragility {
		parts = append(parts, p.E("fragility", f))
	}
	if line, _, _ := strings.Cut(strings.TrimSpace(b.Notes), "\n"); line != "" {
		if len([]rune(line)) > 140 {
			line = string([]rune(line)[:140]) + "…"
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, " · ")
}

// agendaSections groups the rows: now and late first, then next, then
// done.
func agendaSections(rows []agendaRow) []agendaSection {
	var out []agendaSection
	for _, k := range []string{"now", "late", "next", "done"} {
		var sec []agendaRow
		for _, row := range rows {
			if row.State == k {
				sec = append(sec, row)
			}
		}
		if len(sec) > 0 {
			out = append(out, agendaSection{Key: k, Rows: sec})
		}
	}
	return out
}
