package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// History is what SeedHistory created.
type History struct {
	Windows, Done, Missed, Cases, Open int
}

// historyWeeks is how far back the demo coop's check-in history goes.
const historyWeeks = 6

// SeedHistory gives the demo coop's beneficiaries historyWeeks weeks of
// check-ins before now (Monday and Thursday at 10:00, most answered, some
// missed) and a few cases, two still open, so a newcomer's dashboard and
// home page show a coop at work. The same seed gives the same history.
func SeedHistory(ctx context.Context, reg *care.Service, esc *escalation.Service, now time.Time, seed int64) (History, error) {
	var h History
	page, err := reg.ListBeneficiaries(ctx, system, care.Query{Limit: 50})
	if err != nil {
		return h, fmt.Errorf("demo history: %w", err)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0xd1f))
	var ws []escalation.Window
	var cs []escalation.Case
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, b := range page.Items {
		cg := ""
		if len(b.Caregivers) > 0 {
			cg = b.Caregivers[0]
		}
		for d := historyWeeks * 7; d >= 1; d-- {
			day := today.AddDate(0, 0, -d)
			if wd := day.Weekday(); wd != time.Monday && wd != time.Thursday {
				continue
			}
			start := day.Add(9 * time.Hour) // 10:00 in Rome in winter
			w := escalation.Window{ID: "demo-" + b.ID + "@" + start.Format("20060102T1504Z"), Schedule: "demo-" + b.ID,
				Beneficiary: b.ID, Caregiver: cg, Start: start, Deadline: start.Add(90 * time.Minute),
				State: escalation.WindowDone, Placed: true, How: "answered", ClosedAt: start.Add(time.Duration(5+r.IntN(40)) * time.Minute)}
			if r.IntN(100) < 12 {
				w.State, w.How, w.Unanswered, w.ClosedAt = escalation.WindowMissed, escalation.MissUnanswered, 2, w.Deadline
				h.Missed++
			} else {
				h.Done++
			}
			ws = append(ws, w)
		}
	}
	for i := 0; i < 6 && len(page.Items) > 0; i++ {
		b := page.Items[(i*3)%len(page.Items)]
		cg := ""
		if len(b.Caregivers) > 0 {
			cg = b.Caregivers[0]
		}
		opened := today.AddDate(0, 0, -(2 + i*6 + r.IntN(4))).Add(time.Duration(9+r.IntN(8)) * time.Hour)
		c := escalation.Case{Beneficiary: b.ID, Municipality: b.Municipality, Caregiver: cg, Source: "outcome",
			Kind: escalation.Kinds[(i*2+r.IntN(2))%len(escalation.Kinds)], Urgency: escalation.Urgencies[r.IntN(3)],
			State: escalation.CaseClosed, OpenedAt: opened, ClosedAt: opened.Add(time.Duration(20+r.IntN(50)) * time.Hour),
			Timeline: []escalation.Step{{At: opened, By: "demo", What: "opened"}}}
		if i < 2 {
			c.State, c.ClosedAt = escalation.CaseOpen, time.Time{}
			h.Open++
		} else {
			c.Timeline = append(c.Timeline, escalation.Step{At: c.ClosedAt, By: "demo", What: "closed"})
		}
		cs = append(cs, c)
	}
	if err := esc.ImportHistory(ctx, system, ws, cs); err != nil {
		return History{}, fmt.Errorf("demo history: %w", err)
	}
	h.Windows, h.Cases = len(ws), len(cs)
	return h, nil
}
