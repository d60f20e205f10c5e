package webui

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/difronte/difronte/node/escalation"
)

// chart is one server-drawn SVG chart with its text alternative: the
// title names the image, and the same figures are a table below it.
type chart struct {
	ID    string
	Title string
	SVG   template.HTML
	Head  []string   // the table's column heads
	Rows  [][]string // the figures, as the table shows them
}

// Colours of the charts: 4.5:1 or more on white, told apart by more than
// hue (the missed bars are striped).
const (
	chartInk    = "#1a1a1a"
	chartDone   = "#0b5394"
	chartMissed = "#b00020"
)

// hbarChart draws one horizontal bar per row, label on the left, value at
// the bar's end, in a viewBox that scales to the page's width.
func hbarChart(id, title, valueHead string, rows []escalation.Count, label func(string) string) chart {
	const w, barH, gap, labelW, top = 640, 28, 10, 230, 10
	c := chart{ID: id, Title: title, Head: []string{"", valueHead}}
	h := top*2 + len(rows)*(barH+gap)
	maxN := 1
	for _, r := range rows {
		maxN = max(maxN, r.N)
	}
	var b strings.Builder
	svgOpen(&b, id, title, w, max(h, 48))
	for i, r := range rows {
		name := label(r.Key)
		c.Rows = append(c.Rows, []string{name, fmt.Sprint(r.N)})
		y := top + i*(barH+gap)
		bw := max((w-labelW-70)*r.N/maxN, 2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="17" fill="%s">%s</text>`, labelW-10, y+barH-8, chartInk, html.EscapeString(clipLabel(name)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="%s"/>`, labelW, y, bw, barH, chartDone)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="17" font-weight="700" fill="%s">%d</text>`, labelW+bw+8, y+barH-8, chartInk, r.N)
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) //nolint:gosec // every text is escaped above
	return c
}

// monthChart draws, for each month, the check-ins done and missed side by
// side with their values on top, and a legend.
func monthChart(id, title, monthHead, doneLabel, missedLabel string, rows []escalation.MonthRow, month func(string) string) chart {
	const h, plotTop, plotH, groupW, barW, left = 300, 44, 200, 96, 34, 20
	c := chart{ID: id, Title: title, Head: []string{monthHead, doneLabel, missedLabel}}
	w := max(left*2+len(rows)*groupW, 360)
	maxN := 1
	for _, r := range rows {
		maxN = max(maxN, r.Done, r.Missed)
	}
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	fmt.Fprintf(&b, `<defs><pattern id="%s-stripes" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="%s"/><rect width="3" height="8" fill="#fff" opacity=".45"/></pattern></defs>`, id, chartMissed)
	// Legend.
	fmt.Fprintf(&b, `<rect x="%d" y="8" width="18" height="18" fill="%s"/><text x="%d" y="23" font-size="16" fill="%s">%s</text>`, left, chartDone, left+24, chartInk, html.EscapeString(doneLabel))
	fmt.Fprintf(&b, `<rect x="%d" y="8" width="18" height="18" fill="url(#%s-stripes)"/><text x="%d" y="23" font-size="16" fill="%s">%s</text>`, left+160, id, left+184, chartInk, html.EscapeString(missedLabel))
	base := plotTop + plotH
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, base, w-left, base, chartInk)
	for i, r := range rows {
		m := month(r.Month)
		c.Rows = append(c.Rows, []string{m, fmt.Sprint(r.Done), fmt.Sprint(r.Missed)})
		x := left + i*groupW + 10
		for j, v := range []int{r.Done, r.Missed} {
			bh := max(plotH*v/maxN, 2)
			fill := chartDone
			if j == 1 {
				fill = "url(#" + id + "-stripes)"
			}
			bx := x + j*(barW+4)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, bx, base-bh, barW, bh, fill)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="15" font-weight="700" fill="%s">%d</text>`, bx+barW/2, base-bh-6, chartInk, v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="15" fill="%s">%s</text>`, x+barW+2, base+22, chartInk, html.EscapeString(m))
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) //nolint:gosec // every text is escaped above
	return c
}

// svgOpen starts an SVG image named by its title (ids unique per chart).
func svgOpen(b *strings.Builder, id, title string, w, h int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart-svg" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="%s-title" font-family="system-ui, sans-serif">`, w, h, w, h, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`, id, html.EscapeString(title))
}

// clipLabel keeps a bar's label short enough for its column; the table
// below has it whole.
func clipLabel(s string) string {
	r := []rune(s)
	if len(r) <= 24 {
		return s
	}
	return string(r[:23]) + "…"
}

// monthName shows a "YYYY-MM" month in the page's language.
func (p *page) monthName(ym string) string {
	var y, m int
	if _, err := fmt.Sscanf(ym, "%d-%d", &y, &m); err != nil || m < 1 || m > 12 {
		return ym
	}
	return p.T(fmt.Sprintf("charts.month.%d", m)) + " " + fmt.Sprint(y)
}
