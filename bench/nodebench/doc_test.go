package main

import (
	"testing"
	"time"
)

func TestMedianAndMeasure(t *testing.T) {
	if m := median([]time.Duration{5, 1, 3}); m != 3 {
		t.Fatalf("median = %v", m)
	}
	l, err := measure(2, 100, func(int) error { return nil })
	if err != nil || l.p99 < l.p50 {
		t.Fatalf("measure = %+v, %v", l, err)
	}
	if rss(1<<30) != -1 {
		t.Fatal("rss of a missing pid")
	}
}
