package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// The node and PostgreSQL see the same strings: the defeated text and the
// same filters.
func TestPGQueryIsTheNodesQuery(t *testing.T) {
	v := defeated(url.Values{"q": {"badante notte"}, "category": {"c"}, "municipality": {"015146"}, "price": {"free"}}, 20)
	q := pgQuery(v)
	if q.Text != v.Get("q") || !strings.HasPrefix(q.Text, "badante notte ") || q.Text == "badante notte" {
		t.Errorf("text %q, node's %q", q.Text, v.Get("q"))
	}
	for _, w := range strings.Fields(strings.TrimPrefix(q.Text, "badante notte")) {
		if !strings.Contains(" "+strings.Join(stopWords, " ")+" ", " "+w+" ") {
			t.Errorf("%q is not a stop word", w)
		}
	}
	if q.Category != "c" || q.Municipality != "015146" || q.Price != "free" || q.Page != 0 {
		t.Errorf("%+v", q)
	}
	if defeat(v, 1) == defeat(v, 2) {
		t.Error("two searches share a text")
	}
}

func TestMedian(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	if m := median(ms(9, 1, 5)); m != 5*time.Millisecond {
		t.Errorf("median of 9, 1, 5 = %v", m)
	}
	if m := median(ms(8, 2)); m != 5*time.Millisecond {
		t.Errorf("median of 8, 2 = %v", m)
	}
}
