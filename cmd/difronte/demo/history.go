package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// History is what SeedHistory created.
type History struct {
	Windows, Done, Missed, Cases, Open int
	// Calls are the calls placed (answered or not), CallBacks the
	// answered ones outside the agreed check-ins, Outcomes those recorded.
	Calls, CallBacks, Outcomes int
}

// historyWeeks is how far back the demo coop's check-in history goes.
const historyWeeks = 6

// history gathers what SeedHistory imports.
type history struct {
	r        *rand.Rand
	h        History
	windows  []escalation.Window
	cases    []escalation.Case
	seen     []escalation.CallSeen
	outcomes []escalation.Outcome
	records  []calls.Record
}

// SeedHistory gives the demo coop's beneficiaries historyWeeks weeks of
// work before now: check-ins on Monday and Thursday at 10:00 (most
// answered, some missed after two rings), the calls behind them with
// their length, an outcome recorded after each answered one, a few calls
// back on other days, and cases (two still open), so a newcomer's
// dashboard, beneficiary pages and home page show a coop at work. The
// same seed gives the same history. cs may be nil (a node without calls):
// then no call records.
func SeedHistory(ctx context.Context, reg *care.Service, esc *escalation.Service, cs *calls.Service, now time.Time, seed int64) (History, error) {
	page, err := reg.ListBeneficiaries(ctx, system, care.Query{Limit: 50})
	if err != nil {
		return History{}, fmt.Errorf("demo history: %w", err)
	}
	g := &history{r: rand.New(rand.NewPCG(uint64(seed), 0xd1f))}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, b := range page.Items {
		cg := ""
		if len(b.Caregivers) > 0 {
			cg = b.Caregivers[0]
		}
		for d := historyWeeks * 7; d >= 1; d-- {
			day := today.AddDate(0, 0, -d)
			switch day.Weekday() {
			case time.Monday, time.Thursday:
				g.checkin(b.ID, cg, day.Add(9*time.Hour)) // 10:00 in Rome in winter
			case time.Tuesday:
				if g.r.IntN(100) < 30 {
					g.callBack(b.ID, cg, day.Add(time.Duration(14+g.r.IntN(3))*time.Hour))
				}
			}
		}
	}
	for i := 0; i < 6 && len(page.Items) > 0; i++ {
		g.problem(page.Items[(i*3)%len(page.Items)], today, i)
	}
	if err := esc.ImportHistory(ctx, system, g.windows, g.cases); err != nil {
		return History{}, fmt.Errorf("demo history: %w", err)
	}
	if err := esc.ImportCalls(ctx, system, g.seen, g.outcomes); err != nil {
		return History{}, fmt.Errorf("demo history: %w", err)
	}
	if cs != nil {
		if err := cs.ImportRecords(ctx, system, g.records); err != nil {
			return History{}, fmt.Errorf("demo history: %w", err)
		}
	}
	g.h.Windows, g.h.Cases, g.h.Calls, g.h.Outcomes = len(g.windows), len(g.cases), len(g.seen), len(g.outcomes)
	return g.h, nil
}

// call adds one call placed at t: answered with a length, or rung out.
func (g *history) call(id, ben, cg string, t time.Time, answered bool) {
	g.seen = append(g.seen, escalation.CallSeen{ID: id, Beneficiary: ben, Caregiver: cg, At: t, Answered: answered})
	rec := calls.Record{ID: id, Beneficiary: ben, Caregiver: cg, Started: t, Ended: t.Add(time.Minute), EndReason: "unanswered"}
	if answered {
		secs := 180 + g.r.IntN(900)
		rec = calls.Record{ID: id, Beneficiary: ben, Caregiver: cg, Started: t, Answered: true, AnsweredAt: t.Add(8 * time.Second),
			Ended: t.Add(8*time.Second + time.Duration(secs)*time.Second), Seconds: secs, EndReason: "hangup"}
	}
	g.records = append(g.records, rec)
}

// outcome records "all well" after an answered call, as its caregiver.
func (g *history) outcome(call, ben, cg string, at time.Time) {
	g.outcomes = append(g.outcomes, escalation.Outcome{ID: "demo-o-" + call, Key: "demo-" + call, Beneficiary: ben, Caregiver: cg,
		Call: call, Status: escalation.StatusWell, Actions: []string{}, By: "demo", At: at})
}

// checkin adds the agreed check-in starting at start: mostly answered a
// few minutes in, sometimes missed after two calls nobody answered.
func (g *history) checkin(ben, cg string, start time.Time) {
	id := "demo-" + ben + "@" + start.Format("20060102T1504Z")
	w := escalation.Window{ID: id, Schedule: "demo-" + ben, Beneficiary: ben, Caregiver: cg, Start: start,
		Deadline: start.Add(90 * time.Minute), Placed: true}
	if g.r.IntN(100) < 12 {
		w.State, w.How, w.Unanswered, w.ClosedAt = escalation.WindowMissed, escalation.MissUnanswered, 2, w.Deadline
		g.call(id+"-1", ben, cg, start.Add(2*time.Minute), false)
		g.call(id+"-2", ben, cg, start.Add(20*time.Minute), false)
		g.h.Missed++
	} else {
		at := start.Add(time.Duration(2+g.r.IntN(30)) * time.Minute)
		w.State, w.How, w.ClosedAt = escalation.WindowDone, string(escalation.CallAnswered), at
		g.call(id, ben, cg, at, true)
		g.outcome(id, ben, cg, at.Add(20*time.Minute))
		g.h.Done++
	}
	g.windows = append(g.windows, w)
}

// callBack adds an answered call outside the agreed check-ins: a contact
// made all the same.
func (g *history) callBack(ben, cg string, at time.Time) {
	id := "demo-" + ben + "@" + at.Format("20060102T1504Z") + "-extra"
	g.call(id, ben, cg, at, true)
	g.outcome(id, ben, cg, at.Add(25*time.Minute))
	g.h.CallBacks++
}

// problem adds the i-th case: a problem reported after an answered call
// back, closed a day or two later, or still open for the first two.
func (g *history) problem(b care.Beneficiary, today time.Time, i int) {
	cg := ""
	if len(b.Caregivers) > 0 {
		cg = b.Caregivers[0]
	}
	opened := today.AddDate(0, 0, -(2 + i*6 + g.r.IntN(4))).Add(time.Duration(9+g.r.IntN(8)) * time.Hour)
	call := fmt.Sprintf("demo-%s@%s-case", b.ID, opened.Format("20060102T1504Z"))
	g.call(call, b.ID, cg, opened.Add(-20*time.Minute), true)
	c := escalation.Case{ID: fmt.Sprintf("demo-case-%d", i+1), Beneficiary: b.ID, Municipality: b.Municipality, Caregiver: cg, Source: "outcome",
		Kind: escalation.Kinds[(i*2+g.r.IntN(2))%len(escalation.Kinds)], Urgency: escalation.Urgencies[g.r.IntN(3)],
		Outcome: "demo-o-" + call, State: escalation.CaseClosed, OpenedAt: opened,
		ClosedAt: opened.Add(time.Duration(20+g.r.IntN(50)) * time.Hour),
		Timeline: []escalation.Step{{At: opened, By: "demo", What: "opened"}}}
	if i < 2 {
		c.State, c.ClosedAt = escalation.CaseOpen, time.Time{}
		g.h.Open++
	} else {
		c.Timeline = append(c.Timeline, escalation.Step{At: c.ClosedAt, By: "demo", What: "closed"})
	}
	g.cases = append(g.cases, c)
	g.outcomes = append(g.outcomes, escalation.Outcome{ID: c.Outcome, Key: "demo-" + call, Beneficiary: b.ID, Caregiver: cg,
		Call: call, Status: escalation.StatusProblem, Kind: c.Kind, Urgency: c.Urgency, Actions: []string{}, Case: c.ID, By: "demo", At: opened})
	g.h.CallBacks++
}
