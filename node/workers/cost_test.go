package workers

import (
	"net/url"
	"testing"
)

// TestCostEstimateOfficialTable checks the simulator against the 2026
// minimum tables of the CCNL lavoro domestico (live-in table A: BS
// 1,053.39 €, A 908.10 €; hourly table C: DS 9.97 €) and INPS's 2026
// contributions (circolare 9/2026: over 24 h a week 1.24 €/h; up to
// 11.70 €/h effective 1.92 €/h, of which 0.48 € the worker's).
func TestCostEstimateOfficialTable(t *testing.T) {
	tab, err := LoadTable()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Year != 2026 || tab.Source == "" {
		t.Fatalf("table year %d source %q", tab.Year, tab.Source)
	}
	cases := []struct {
		name string
		q    CostQuery
		want Estimate
	}{
		{"live-in BS, 54 h: badante of a self-sufficient elder", CostQuery{HoursPerWeek: 54, LiveIn: true, Level: "BS"},
			// 13th: 1053.39/12; TFR: 1053.39×13/13.5/12; INPS: (1.24−0.31) × 54×52/12 h.
			Estimate{MonthlyPay: 105339, Thirteenth: 8778, TFR: 8453, INPSEmployer: 21762, INPSWorker: 7254}},
		{"live-in A, 40 h", CostQuery{HoursPerWeek: 40, LiveIn: true, Level: "A"},
			Estimate{MonthlyPay: 90810, Thirteenth: 7568, TFR: 7287, INPSEmployer: 16120, INPSWorker: 5373}},
		{"not live-in DS, 20 h", CostQuery{HoursPerWeek: 20, Level: "DS"},
			// 9.97 × 20 × 52/12 = 864.07; effective 10.80 €/h with the 13th: band up to 11.70.
			Estimate{HourlyMinimum: 997, MonthlyPay: 86407, Thirteenth: 7201, TFR: 6934, INPSEmployer: 12480, INPSWorker: 4160}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tab.Estimate(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if e.MonthlyPay != w.MonthlyPay || e.HourlyMinimum != w.HourlyMinimum || e.Thirteenth != w.Thirteenth ||
				e.TFR != w.TFR || e.INPSEmployer != w.INPSEmployer || e.INPSWorker != w.INPSWorker {
				t.Fatalf("got %+v\nwant %+v", e, w)
			}
			if !e.Estimate || e.EmployerMonthly != e.MonthlyPay+e.Thirteenth+e.TFR+e.INPSEmployer {
				t.Fatalf("not an estimate, or total wrong: %+v", e)
			}
		})
	}
	if _, err := tab.Estimate(CostQuery{HoursPerWeek: 20, Level: "BS"}); err == nil {
		t.Fatal("an hourly minimum not entered in the table was guessed")
	}
}

func TestParseCostQuery(t *testing.T) {
	ok := url.Values{"hours": {"25"}, "live_in": {"false"}, "level": {"CS"}}
	if q, err := ParseCostQuery(ok); err != nil || q.HoursPerWeek != 25 || q.Level != "CS" {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []url.Values{
		{"hours": {"0"}, "level": {"A"}}, {"hours": {"55"}, "level": {"A"}}, {"hours": {"10"}, "level": {"E"}},
		{"hours": {"10"}, "level": {"A"}, "color": {"red"}}, {"hours": {"10", "12"}, "level": {"A"}},
		{"hours": {"10"}, "level": {"A"}, "live_in": {"maybe"}},
	} {
		if _, err := ParseCostQuery(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
