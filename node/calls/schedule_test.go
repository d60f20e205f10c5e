package calls

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", s, rome())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestScheduleAcrossDST(t *testing.T) {
	loc := rome()
	tests := []struct {
		name     string
		s        Schedule
		from, to string
		want     []string // local wall clock
	}{
		{"spring forward keeps 10:00", Schedule{Rule: "FREQ=WEEKLY;BYDAY=SU", Time: "10:00", Start: "2026-03-01"}, "2026-03-20", "2026-04-06",
			[]string{"2026-03-22 10:00 CET", "2026-03-29 10:00 CEST", "2026-04-05 10:00 CEST"}},
		{"fall back keeps 10:00", Schedule{Rule: "FREQ=WEEKLY;BYDAY=SU", Time: "10:00", Start: "2026-10-01"}, "2026-10-18", "2026-11-02",
			[]string{"2026-10-18 10:00 CEST", "2026-10-25 10:00 CET", "2026-11-01 10:00 CET"}},
		{"nonexistent 02:30 moves to 03:30", Schedule{Rule: "FREQ=DAILY", Time: "02:30", Start: "2026-03-28"}, "2026-03-28", "2026-03-31",
			[]string{"2026-03-28 02:30 CET", "2026-03-29 03:30 CEST", "2026-03-30 02:30 CEST"}},
		{"exceptions and one-offs", Schedule{Rule: "FREQ=WEEKLY;BYDAY=MO,TH", Time: "10:00", Start: "2026-03-23", Except: []string{"2026-03-26"}, Extra: []string{"2026-03-28T16:30"}}, "2026-03-23", "2026-04-03",
			[]string{"2026-03-23 10:00 CET", "2026-03-28 16:30 CET", "2026-03-30 10:00 CEST", "2026-04-02 10:00 CEST"}},
		{"until is inclusive", Schedule{Rule: "FREQ=WEEKLY;BYDAY=MO", Time: "09:15", Start: "2026-01-05", Until: "2026-01-19"}, "2026-01-01", "2026-03-01",
			[]string{"2026-01-05 09:15 CET", "2026-01-12 09:15 CET", "2026-01-19 09:15 CET"}},
		{"only one-offs", Schedule{Time: "10:00", Start: "2026-01-05", Extra: []string{"2026-02-01T11:00"}}, "2026-01-01", "2026-03-01",
			[]string{"2026-02-01 11:00 CET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Beneficiary, tt.s.Caregiver = "b", "c"
			if bad := tt.s.Check(); len(bad) > 0 {
				t.Fatalf("check: %v", bad)
			}
			occ, err := tt.s.Between(day(t, tt.from), day(t, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range occ {
				got = append(got, o.Start.In(loc).Format("2006-01-02 15:04 MST"))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestScheduleProperties checks, on random weekly schedules over years with
// DST changes, that every occurrence falls on a chosen weekday at the agreed
// wall-clock time (or an hour later when that time does not exist), never on
// an excepted day, that every one-off appears, that the list is ordered and
// unique, and that no matching day in range is missed.
func TestScheduleProperties(t *testing.T) {
	loc := rome()
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
	wd := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	rng := rand.New(rand.NewPCG(6, 2026))
	n := 300
	if testing.Short() {
		n = 60
	}
	for i := range n {
		var by []string
		want := map[time.Weekday]bool{}
		for j, d := range days {
			if rng.IntN(3) == 0 {
				by = append(by, d)
				want[wd[j]] = true
			}
		}
		if len(by) == 0 {
			by, want = []string{"TH"}, map[time.Weekday]bool{time.Thursday: true}
		}
		hh, mm := rng.IntN(24), rng.IntN(4)*15
		start := time.Date(2024+rng.IntN(6), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, loc)
		from := start.AddDate(0, 0, rng.IntN(30))
		to := from.AddDate(0, 0, 30+rng.IntN(400))
		s := Schedule{ID: fmt.Sprint(i), Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY;BYDAY=" + strings.Join(by, ","),
			Time: fmt.Sprintf("%02d:%02d", hh, mm), Start: start.Format("2006-01-02")}
		except := map[string]bool{}
		for range rng.IntN(5) {
			d := from.AddDate(0, 0, rng.IntN(60)).Format("2006-01-02")
			s.Except = append(s.Except, d)
			except[d] = true
		}
		var extras []time.Time
		for range rng.IntN(3) {
			x := from.AddDate(0, 0, rng.IntN(60)).Add(time.Duration(rng.IntN(24*4)) * 15 * time.Minute)
			x = time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), 0, 0, loc)
			if x.Before(to) {
				s.Extra = append(s.Extra, x.Format("2006-01-02T15:04"))
				if y, _ := time.ParseInLocation("2006-01-02T15:04", x.Format("2006-01-02T15:04"), loc); y.Equal(x) {
					extras = append(extras, x)
				}
			}
		}
		if bad := s.Check(); len(bad) > 0 {
			t.Fatalf("%+v: %v", s, bad)
		}
		occ, err := s.Between(from, to)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for k, o := range occ {
			if k > 0 && !occ[k-1].Start.Before(o.Start) {
				t.Fatalf("case %d: not ordered/unique at %d", i, k)
			}
			if o.Start.Before(from) || !o.Start.Before(to) {
				t.Fatalf("case %d: %v out of range", i, o.Start)
			}
			l := o.Start.In(loc)
			got[l.Format("2006-01-02")] = true
			if o.Extra {
				continue
			}
			if !want[l.Weekday()] {
				t.Fatalf("case %d: %v on a wrong weekday", i, l)
			}
			if except[l.Format("2006-01-02")] {
				t.Fatalf("case %d: %v on an excepted day", i, l)
			}
			wall := time.Date(l.Year(), l.Month(), l.Day(), hh, mm, 0, 0, loc)
			if !l.Equal(wall) {
				t.Fatalf("case %d: %v, want wall clock %02d:%02d (normalised %v)", i, l, hh, mm, wall)
			}
			if l.Hour() != hh || l.Minute() != mm {
				// Only a spring-forward gap may move the time, by one hour.
				if l.Hour() != hh+1 || l.Minute() != mm {
					t.Fatalf("case %d: %v moved by more than the DST gap", i, l)
				}
			}
		}
		for _, x := range extras {
			if !slices.ContainsFunc(occ, func(o Occurrence) bool { return o.Start.Equal(x) }) && !x.Before(from) {
				t.Fatalf("case %d: one-off %v missing", i, x)
			}
		}
		// Every matching, non-excepted day in range has its call.
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			ds := d.Format("2006-01-02")
			at := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
			if want[d.Weekday()] && !except[ds] && !at.Before(from) && at.Before(to) && !d.Before(start) && !got[ds] {
				t.Fatalf("case %d: missed %s", i, ds)
			}
		}
	}
}

func TestScheduleCheck(t *testing.T) {
	tests := []struct {
		s     Schedule
		field string
	}{
		{Schedule{Caregiver: "c", Rule: "FREQ=WEEKLY", Time: "10:00", Start: "2026-01-01"}, "beneficiary"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY", Time: "25:00", Start: "2026-01-01"}, "time"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=MINUTELY", Time: "10:00", Start: "2026-01-01"}, "rule"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "garbage", Time: "10:00", Start: "2026-01-01"}, "rule"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY\nDTSTART:2020", Time: "10:00", Start: "2026-01-01"}, "rule"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY", Time: "10:00", Start: "2026-13-01"}, "start"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY", Time: "10:00", Start: "2026-01-05", Until: "2026-01-01"}, "until"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY", Time: "10:00", Start: "2026-01-05", Except: []string{"x"}}, "except"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Time: "10:00", Start: "2026-01-05", Extra: []string{"2026-01-05 10:00"}}, "extra"},
		{Schedule{Beneficiary: "b", Caregiver: "c", Time: "10:00", Start: "2026-01-05"}, "rule"},
	}
	for _, tt := range tests {
		if bad := tt.s.Check(); bad[tt.field] == "" {
			t.Errorf("%+v: want an error on %s, got %v", tt.s, tt.field, bad)
		}
	}
}

func TestICS(t *testing.T) {
	s := Schedule{ID: "s1", Beneficiary: "b", Caregiver: "c", Rule: "FREQ=WEEKLY;BYDAY=SU", Time: "10:00", Start: "2026-03-22"}
	s.Check()
	occ, _ := s.Between(day(t, "2026-03-22"), day(t, "2026-04-01"))
	var evs []CalendarEvent
	for _, o := range occ {
		evs = append(evs, CalendarEvent{UID: uid(o, "node"), Start: o.Start, End: o.End, Summary: "Chiamata a Maria, Rossi; " + strings.Repeat("x", 80)})
	}
	var b bytes.Buffer
	if err := WriteICS(&b, "Agenda", evs, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "DTSTART:20260322T090000Z\r\n", "DTSTART:20260329T080000Z\r\n", `Maria\, Rossi\;`, "END:VCALENDAR\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("feed lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\r\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
	}
}
