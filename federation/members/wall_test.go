package members_test

import (
	"time"

	"golang.org/x/sys/unix"
)

// wallNow reads the real monotonic clock, even inside a synctest bubble.
func wallNow() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

func wallSince(d time.Duration) time.Duration { return (wallNow() - d).Round(time.Millisecond) }
