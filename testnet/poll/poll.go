package poll

import (
	"context"
	"testing"
	"time"
)

// Interval is how often Until tests its condition.
const Interval = 10 * time.Millisecond

// Until tests cond every Interval until it holds; if timeout passes
// first, it fails tb with "timed out after <timeout> waiting for <what>".
func Until(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Wait(timeout, Interval, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Wait tests cond every interval until it holds (true) or still fails
// once timeout has passed (false). It is for callers that fail with a
// message of their own, or that do not fail at all.
func Wait(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}

// WaitCtx tests cond every interval until it holds (true) or ctx ends
// (false): for waits bounded by a test's context rather than a timeout.
func WaitCtx(ctx context.Context, interval time.Duration, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(interval):
		}
	}
	return true
}
