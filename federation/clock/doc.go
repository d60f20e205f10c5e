// Package clock is Difronte's one time source: the current time, timers,
// tickers and delayed calls. Every package of node/ and federation/ that
// turns time into data (record timestamps, schedules, audit events) or
// waits (escalation timers, redial, catch-up, snapshots) takes a Clock
// instead of calling the time package, so a test can drive it with
// fakeclock.Clock and a whole node can run on simulated time.
//
// Two kinds of time stay on the operating system's clock on purpose and
// have their own functions here: network deadlines (Deadline), which the
// kernel enforces against the wall clock, and durations measured for
// metrics and "took" lines (Start and Stopwatch), which must not jump when
// a test moves its fake clock.
//
// It imports only the standard library; it lives under federation/ because
// that is the lowest floor that waits, and both federation/ and node/ use
// it. Only tests, benchmarks and the development testnets import
// clock/fakeclock.
package clock
