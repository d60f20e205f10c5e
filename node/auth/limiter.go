package auth

import (
	"encoding/json"
	"sync"
	"time"
)

// Limiter counts failures per key in a fixed window. It holds at most
// maxKeys keys so a flood of distinct keys cannot grow it without bound.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	hits map[string]*window
}

type window struct {
	start time.Time
	n     int
}

const maxKeys = 10000

// NewLimiter allows max failures per key per window.
func NewLimiter(max int, w time.Duration, now func() time.Time) *Limiter {
	return &Limiter{max: max, window: w, now: now, hits: map[string]*window{}}
}

// Allow reports whether key may try again.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.hits[key]
	if !ok {
		return true
	}
	if l.now().Sub(w.start) >= l.window {
		delete(l.hits, key)
		return true
	}
	// The per-user global key tolerates more failures than one address.
	limit := l.max
	if len(key) > 7 && key[len(key)-7:] == "|global" {
		limit = l.max * 4
	}
	return w.n < limit
}

// Fail records a failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.hits) >= maxKeys {
		for k, w := range l.hits {
			if now.Sub(w.start) >= l.window {
				delete(l.hits, k)
			}
		}
		if len(l.hits) >= maxKeys {
			return
		}
	}
	w, ok := l.hits[key]
	if !ok || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.hits[key] = w
	}
	w.n++
}

// Reset forgets key after a success.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.hits, key)
	l.mu.Unlock()
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
