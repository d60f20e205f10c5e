package poll

import (
	"context"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	n := 0
	if !Wait(time.Second, time.Millisecond, func() bool { n++; return n == 3 }) {
		t.Fatal("Wait gave up on a condition that came true")
	}
	if n != 3 {
		t.Fatalf("cond tested %d times, want 3", n)
	}
	start := time.Now()
	if Wait(20*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Wait reported a condition that never held")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("Wait gave up after %v, before its timeout", d)
	}
}

func TestUntil(t *testing.T) {
	n := 0
	Until(t, time.Second, "the third test", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("cond tested %d times, want 3", n)
	}
}

func TestWaitCtx(t *testing.T) {
	n := 0
	if !WaitCtx(context.Background(), time.Millisecond, func() bool { n++; return n == 3 }) {
		t.Fatal("WaitCtx gave up on a condition that came true")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if WaitCtx(ctx, time.Millisecond, func() bool { return false }) {
		t.Fatal("WaitCtx reported a condition that never held")
	}
	if ctx.Err() == nil {
		t.Fatal("WaitCtx gave up before its context ended")
	}
}
