package escalation

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestDashboard(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.pres.online["b1"] = true
	r.sched.slots = []Slot{slotAt(t0.Add(time.Hour)), slotAt(t0.Add(25 * time.Hour))}
	r.advance(time.Hour + time.Minute)
	r.call("call1", true) // first window: done
	if _, err := r.svc.RecordOutcome(ctx, carla, problemOutcome("k1")); err != nil {
		t.Fatal(err)
	}
	r.advance(25 * time.Hour) // second window: not placed
	d, err := r.svc.Dashboard(ctx, admin, t0.Add(-time.Hour), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d.Done != 1 || d.Missed != 1 || d.Problems != 1 || len(d.Open) != 2 {
		t.Fatalf("dashboard %+v", d)
	}
	if d.ByKind[0] != (Count{"health", 1}) || d.ByMunicipality[0] != (Count{"001272", 1}) {
		t.Fatalf("by kind %v by municipality %v", d.ByKind, d.ByMunicipality)
	}
	if len(d.ByCaregiver) != 1 || d.ByCaregiver[0].Done != 1 || d.ByCaregiver[0].Missed != 1 || d.ByCaregiver[0].Open != 2 {
		t.Fatalf("by caregiver %+v", d.ByCaregiver)
	}
	if _, err := r.svc.Dashboard(ctx, carla, t0, t0); err == nil {
		t.Fatal("a caregiver read the dashboard")
	}
	var buf bytes.Buffer
	cgID := d.ByCaregiver[0].Caregiver
	if err := d.WriteCSV(&buf, map[string]string{cgID: "=Carla Rossi"}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || recs[0][0] != "section" || !strings.Contains(buf.String(), "") {
		t.Fatalf("csv %v %v", recs, err)
	}
	found := false
	for _, rec := range recs {
		if rec[0] == "problem_kind" && rec[1] == "health" && rec[3] == "1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("csv lacks the health row: %v", recs)
	}
	// Caregiver rows keep the id as key and carry the name, neutralised
	// as a formula like every other value.
	named := 0
	for _, rec := range recs {
		if len(rec) != 5 {
			t.Fatalf("csv row %v has %d columns, want 5", rec, len(rec))
		}
		if strings.HasPrefix(rec[0], "caregiver_") {
			if rec[1] != cgID || rec[4] != "'=Carla Rossi" {
				t.Fatalf("caregiver row %v, want key %s and name '=Carla Rossi", rec, cgID)
			}
			named++
		}
	}
	if named != 4 {
		t.Fatalf("%d named caregiver rows, want 4: %v", named, recs)
	}
	// The SVG is well-formed XML, titled, and escapes labels.
	svg := BarSVG("Problemi <per tipo>", d.ByKind, func(k string) string { return k + " & co" })
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("svg not well-formed: %v\n%s", err, svg)
	}
	if !strings.Contains(svg, "<title id=\"t\">Problemi &lt;per tipo&gt;</title>") || !strings.Contains(svg, "health &amp; co") {
		t.Fatalf("svg %s", svg)
	}
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
		t.Fatal("svg needs inline style or script")
	}
	if csvSafe("=cmd()") != "'=cmd()" {
		t.Fatal("formula not neutralised")
	}
}

// TestDashboardCountsEarlyContact checks that a call answered in the hour
// before the agreed time, which closes the window before it starts, is a
// contact made as soon as it is: the dashboard (up to now) counts it once.
func TestDashboardCountsEarlyContact(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.pres.online["b1"] = true
	r.sched.slots = []Slot{slotAt(t0.Add(time.Hour))}
	r.advance(30 * time.Minute)
	r.call("early", true)
	d, err := r.svc.Dashboard(ctx, admin, t0.Add(-time.Hour), r.clock.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d.Done != 1 || len(d.ByMonth) != 1 || d.ByMonth[0].Done != 1 {
		t.Fatalf("a contact made before its window's start: done %d, by month %+v", d.Done, d.ByMonth)
	}
}
