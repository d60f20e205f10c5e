package workers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/difronte/difronte/node/problem"
)

// ccnlTable is the year's table of the CCNL lavoro domestico: the minimum
// pay by level, the severance divisor and INPS's contribution bands. One
// file a year, named by its year, with its sources inside.
//
//go:embed ccnl_2026.json
var ccnlTable []byte

// Table is the decoded data table of one year.
type Table struct {
	Year            int              `json:"year"`
	Contract        string           `json:"contract"`
	Source          string           `json:"source"`
	Note            string           `json:"note"`
	LiveInMonthly   map[string]int64 `json:"live_in_monthly_cents"`
	Hourly          map[string]int64 `json:"hourly_cents"`
	TFRDivisorTenth int64            `json:"tfr_divisor_tenths"`
	INPS            struct {
		Bands []struct {
			UpToHourly int64 `json:"up_to_hourly_cents"` // 0: no upper bound
			Total      int64 `json:"total_cents"`
			Worker     int64 `json:"worker_cents"`
		} `json:"bands"`
		Over24h struct {
			Total  int64 `json:"total_cents"`
			Worker int64 `json:"worker_cents"`
		} `json:"over_24h"`
		Over24hNote string `json:"over_24h_note"`
	} `json:"inps"`
}

// Levels are the CCNL's levels of domestic work, lowest first.
var Levels = []string{"A", "AS", "B", "BS", "C", "CS", "D", "DS"}

// LoadTable decodes the embedded table.
func LoadTable() (*Table, error) {
	var t Table
	if err := json.Unmarshal(ccnlTable, &t); err != nil {
		return nil, fmt.Errorf("ccnl table: %w", err)
	}
	if t.Year == 0 || t.TFRDivisorTenth == 0 || len(t.INPS.Bands) == 0 {
		return nil, fmt.Errorf("ccnl table: incomplete")
	}
	return &t, nil
}

// CostQuery is what a family asks the simulator.
type CostQuery struct {
	HoursPerWeek int
	LiveIn       bool
	Level        string
}

// Estimate is the simulator's answer: an estimate of the employer's
// monthly cost at the contract's minimum, in cents.
type Estimate struct {
	Estimate        bool   `json:"estimate"` // always true: this is not a payslip
	Year            int    `json:"year"`
	Source          string `json:"source"`
	Level           string `json:"level"`
	LiveIn          bool   `json:"live_in"`
	HoursPerWeek    int    `json:"hours_per_week"`
	HourlyMinimum   int64  `json:"hourly_minimum_cents,omitempty"`
	MonthlyPay      int64  `json:"monthly_pay_cents"`
	Thirteenth      int64  `json:"thirteenth_monthly_cents"` // a twelfth of the thirteenth month, set aside each month
	TFR             int64  `json:"tfr_monthly_cents"`        // severance accrued each month
	INPSEmployer    int64  `json:"inps_employer_monthly_cents"`
	INPSWorker      int64  `json:"inps_worker_monthly_cents"`
	EmployerMonthly int64  `json:"employer_monthly_cents"` // pay + 13th + TFR + employer's INPS
}

func div(a, b int64) int64 { return (a + b/2) / b } // rounded to the nearest

// Estimate computes the monthly cost of q.
func (t *Table) Estimate(q CostQuery) (Estimate, error) {
	e := Estimate{Estimate: true, Year: t.Year, Source: t.Source, Level: q.Level, LiveIn: q.LiveIn, HoursPerWeek: q.HoursPerWeek}
	// A month is 52/12 weeks: hours a month = hw52 / 12.
	hw52 := int64(q.HoursPerWeek) * 52
	if q.LiveIn {
		if q.HoursPerWeek <= 30 {
			return e, problem.New(http.StatusUnprocessableEntity, "not_in_table", "part-time live-in pay (up to 30 hours) is not in the table")
		}
		m, ok := t.LiveInMonthly[q.Level]
		if !ok {
			return e, problem.New(http.StatusUnprocessableEntity, "not_in_table", "level "+q.Level+" is not in the live-in table")
		}
		e.MonthlyPay = m
	} else {
		h, ok := t.Hourly[q.Level]
		if !ok {
			return e, problem.New(http.StatusUnprocessableEntity, "not_in_table", fmt.Sprintf("the %d hourly minimum of level %s is not entered yet", t.Year, q.Level))
		}
		e.HourlyMinimum = h
		e.MonthlyPay = div(h*hw52, 12)
	}
	e.Thirteenth = div(e.MonthlyPay, 12)
	e.TFR = div(e.MonthlyPay*13*10, 12*t.TFRDivisorTenth)
	total, worker := t.inpsHourly(q.HoursPerWeek, div(e.MonthlyPay*13, hw52))
	e.INPSEmployer = div((total-worker)*hw52, 12)
	e.INPSWorker = div(worker*hw52, 12)
	e.EmployerMonthly = e.MonthlyPay + e.Thirteenth + e.TFR + e.INPSEmployer
	return e, nil
}

// inpsHourly returns INPS's hourly contribution and the worker's share of
// it: a flat one over 24 hours a week, else by the band of the effective
// hourly pay (thirteenth month included).
func (t *Table) inpsHourly(hpw int, effectiveHourly int64) (total, worker int64) {
	if hpw > 24 {
		return t.INPS.Over24h.Total, t.INPS.Over24h.Worker
	}
	for _, b := range t.INPS.Bands {
		if b.UpToHourly == 0 || effectiveHourly <= b.UpToHourly {
			return b.Total, b.Worker
		}
	}
	last := t.INPS.Bands[len(t.INPS.Bands)-1]
	return last.Total, last.Worker
}

// ParseCostQuery reads the simulator's parameters strictly, as the
// catalogue search reads its own: unknown or repeated parameters refused.
func ParseCostQuery(v url.Values) (CostQuery, error) {
	bad := func(msg string) error { return problem.BadRequest("bad_query", msg, nil) }
	for k, vs := range v {
		if k != "hours" && k != "live_in" && k != "level" {
			return CostQuery{}, bad("unknown parameter " + strconv.Quote(clipParam(k)))
		}
		if len(vs) > 1 {
			return CostQuery{}, bad("parameter " + k + " given more than once")
		}
	}
	var q CostQuery
	h, err := strconv.Atoi(v.Get("hours"))
	if err != nil || h < 1 || h > 54 {
		return q, bad("hours must be a whole number of hours a week from 1 to 54")
	}
	q.HoursPerWeek = h
	switch v.Get("live_in") {
	case "", "false", "0", "off":
	case "true", "1", "on":
		q.LiveIn = true
	default:
		return q, bad("live_in must be true or false")
	}
	q.Level = v.Get("level")
	found := false
	for _, l := range Levels {
		found = found || l == q.Level
	}
	if !found {
		return q, bad("level must be one of A, AS, B, BS, C, CS, D, DS")
	}
	return q, nil
}

func clipParam(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
