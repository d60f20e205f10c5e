package webui

import (
	"strings"
	"testing"

	"github.com/difronte/difronte/node/escalation"
)

func TestCharts(t *testing.T) {
	u, err := newUI(nil, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	p := &page{u: u, cat: u.cat, Lang: "it"}
	m := monthChart("m", "Contatti per mese", "Mese", "Contatti fatti", "Contatti mancati",
		[]escalation.MonthRow{{Month: "2026-11", Done: 40, Missed: 3}, {Month: "2026-12", Done: 12, Missed: 0}}, p.monthName)
	svg := string(m.SVG)
	for _, want := range []string{`role="img"`, `aria-labelledby="m-title"`, `<title id="m-title">Contatti per mese</title>`, ">40<", ">3<", "nov 2026", "dic 2026", "Contatti mancati"} {
		if !strings.Contains(svg, want) {
			t.Errorf("month chart lacks %s", want)
		}
	}
	if len(m.Rows) != 2 || m.Rows[0][0] != "nov 2026" || m.Rows[0][1] != "40" || m.Rows[0][2] != "3" {
		t.Errorf("month table %v", m.Rows)
	}
	k := hbarChart("k", "Problemi <per> tipo", "Numero", []escalation.Count{{Key: "x", N: 5}, {Key: "y", N: 1}},
		func(s string) string { return s + ` & "co"` })
	svg = string(k.SVG)
	if strings.Contains(svg, "<per>") || !strings.Contains(svg, "Problemi &lt;per&gt; tipo") || !strings.Contains(svg, "x &amp; &#34;co&#34;") {
		t.Errorf("bar chart does not escape its text: %s", svg)
	}
	if strings.Contains(svg, `id="m-title"`) {
		t.Error("chart ids are not the chart's own")
	}
	if len(k.Rows) != 2 || k.Rows[1][1] != "1" {
		t.Errorf("bar table %v", k.Rows)
	}
}
