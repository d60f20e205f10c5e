package calls

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// CalendarEvent is one call as a calendar shows it.
type CalendarEvent struct {
	UID     string
	Start   time.Time
	End     time.Time
	Summary string
}

// WriteICS writes an iCalendar (RFC 5545) feed. Times are UTC, so no
// VTIMEZONE is needed and every calendar app places daylight-saving changes
// right.
func WriteICS(w io.Writer, name string, events []CalendarEvent, stamp time.Time) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)); b.WriteString("\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Difronte//calls//IT")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeText(name))
	line("X-WR-TIMEZONE:" + Zone)
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + escapeText(e.UID))
		line("DTSTAMP:" + icsTime(stamp))
		line("DTSTART:" + icsTime(e.Start))
		line("DTEND:" + icsTime(e.End))
		line("SUMMARY:" + escapeText(e.Summary))
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// escapeText escapes an iCalendar TEXT value.
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// fold splits content lines at 75 octets without cutting a UTF-8 sequence.
func fold(s string) string {
	if len(s) <= 75 {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	return b.String()
}

// uid names one occurrence stably across feed refreshes.
func uid(o Occurrence, host string) string {
	return fmt.Sprintf("%s-%s@%s", o.Schedule, o.Start.UTC().Format("20060102T1504Z"), host)
}
