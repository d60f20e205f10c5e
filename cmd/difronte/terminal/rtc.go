package terminal

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RTC is the hardware clock's wake alarm under a sysfs root. The kernel
// reads the number written to wakealarm as seconds since the epoch *of the
// RTC's own clock*: with a clock that keeps UTC that is the Unix time; with
// one that keeps local time (/etc/adjtime says LOCAL, as on PCs that also
// boot Windows) it is the local wall-clock time read as if it were UTC.
type RTC struct {
	Sys   string         // sysfs root
	Local bool           // the RTC keeps local time
	Zone  *time.Location // the local time of a Local RTC
}

func (r RTC) path() string { return filepath.Join(r.Sys, "class/rtc/rtc0/wakealarm") }

// Available says whether the PC has a wake alarm the agent can program.
func (r RTC) Available() bool { return exists(r.path()) }

// Value is what is written to wakealarm to wake at t.
func (r RTC) Value(t time.Time) int64 {
	if !r.Local {
		return t.Unix()
	}
	zone := r.Zone
	if zone == nil {
		zone = time.Local
	}
	l := t.In(zone)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Unix()
}

// Set programs the alarm for t. The kernel refuses to replace an armed
// alarm, so it is cleared first.
func (r RTC) Set(t time.Time) error {
	if err := r.Clear(); err != nil {
		return err
	}
	if err := os.WriteFile(r.path(), []byte(strconv.FormatInt(r.Value(t), 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("set the wake alarm: %w", err)
	}
	return nil
}

// Clear disarms the alarm.
func (r RTC) Clear() error {
	if err := os.WriteFile(r.path(), []byte("0\n"), 0o644); err != nil {
		return fmt.Errorf("clear the wake alarm: %w", err)
	}
	return nil
}

// Read returns the raw value in wakealarm ("" when disarmed).
func (r RTC) Read() string {
	return strings.TrimSpace(readTrim(r.path()))
}
