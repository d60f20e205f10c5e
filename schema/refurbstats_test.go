package schema

import (
	"errors"
	"testing"
)

func goodRefurb() RefurbStats {
	return RefurbStats{Coop: "Cooperativa Sole", AsOf: "2026-05-04T08:00:00Z", Recovered: 12, Delivered: 7, InService: 5, Retired: 2,
		GramsAvoided: 7 * 2500, GramsPerDevice: 2500, WorkMinutes: 3000, Workers: 4}
}

func TestRefurbStatsBody(t *testing.T) {
	good := `{"coop":"Cooperativa Sole","as_of":"2026-05-04T08:00:00Z","recovered":12,"delivered":7,"in_service":5,"retired":2,"grams_avoided":17500,"grams_per_device":2500,"work_minutes":3000,"workers":4}`
	if err := ValidateBody(KindRefurbStats, RefurbStatsKey, []byte(good)); err != nil {
		t.Fatalf("good body refused: %v", err)
	}
	for _, c := range []struct{ name, key, body string }{
		{"wrong key", "other", good},
		{"unknown member (a name)", RefurbStatsKey, `{"coop":"Cooperativa Sole","as_of":"2026-05-04T08:00:00Z","recovered":1,"delivered":0,"in_service":0,"retired":0,"grams_avoided":0,"grams_per_device":2500,"work_minutes":0,"workers":1,"worker":"Anna"}`},
		{"fraction", RefurbStatsKey, `{"coop":"Cooperativa Sole","as_of":"2026-05-04T08:00:00Z","recovered":1.5,"delivered":0,"in_service":0,"retired":0,"grams_avoided":0,"grams_per_device":2500,"work_minutes":0,"workers":0}`},
		{"bad date", RefurbStatsKey, `{"coop":"Cooperativa Sole","as_of":"yesterday","recovered":1,"delivered":0,"in_service":0,"retired":0,"grams_avoided":0,"grams_per_device":2500,"work_minutes":0,"workers":0}`},
		{"trailing data", RefurbStatsKey, good + "{}"},
	} {
		if err := ValidateBody(KindRefurbStats, c.key, []byte(c.body)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	for name, mut := range map[string]func(*RefurbStats){
		"negative":               func(r *RefurbStats) { r.Retired = -1 },
		"huge":                   func(r *RefurbStats) { r.WorkMinutes = maxFigure + 1 },
		"delivered > recovered":  func(r *RefurbStats) { r.Delivered, r.GramsAvoided = 13, 13*2500 },
		"in service > delivered": func(r *RefurbStats) { r.InService = 8 },
		"retired > recovered":    func(r *RefurbStats) { r.Retired = 13 },
		"grams not computed":     func(r *RefurbStats) { r.GramsAvoided = 1 },
	} {
		r := goodRefurb()
		mut(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	a, b := goodRefurb(), goodRefurb()
	b.AsOf = "2026-05-05T08:00:00Z"
	if !a.SameFigures(b) {
		t.Fatal("same figures at another time differ")
	}
	b.Workers++
	if a.SameFigures(b) {
		t.Fatal("other figures compare the same")
	}
	if !KindRefurbStats.Known() {
		t.Fatal("refurbstats not known")
	}
	if err := ValidateBody("refurbstats2", RefurbStatsKey, []byte(good)); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
}

// FuzzRefurbStatsBody: whatever a peer sends as a refurbstats body is
// refused or accepted without panicking, and what is accepted is valid.
func FuzzRefurbStatsBody(f *testing.F) {
	f.Add([]byte(`{"coop":"Cooperativa Sole","as_of":"2026-05-04T08:00:00Z","recovered":12,"delivered":7,"in_service":5,"retired":2,"grams_avoided":17500,"grams_per_device":2500,"work_minutes":3000,"workers":4}`))
	f.Add([]byte(`{"coop":"Cooperativa Sole","as_of":"2026-05-04T08:00:00Z","recovered":1e9}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ValidateBody(KindRefurbStats, RefurbStatsKey, b) != nil {
			return
		}
		var r RefurbStats
		if err := decodeStrict(b, &r); err != nil {
			t.Fatalf("accepted but does not decode: %v", err)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted but invalid: %v", err)
		}
	})
}
