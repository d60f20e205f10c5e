package audit

import (
	"context"
	"sync/atomic"
)

type denialsKey struct{}

// WatchDenials returns ctx remembering whether a denial is recorded under
// it. The HTTP layer watches every request, so that a refusal some domain
// already audited in detail (with the record's id) is not audited twice,
// and one that nobody audited still is (node/httpx.AuditRefusals).
func WatchDenials(ctx context.Context) context.Context {
	return context.WithValue(ctx, denialsKey{}, new(atomic.Bool))
}

// DeniedUnder reports whether Record wrote a denial under ctx since
// WatchDenials.
func DeniedUnder(ctx context.Context) bool {
	f, _ := ctx.Value(denialsKey{}).(*atomic.Bool)
	return f != nil && f.Load()
}

func noteDenial(ctx context.Context, ev Event) {
	if ev.Action != Denied {
		return
	}
	if f, _ := ctx.Value(denialsKey{}).(*atomic.Bool); f != nil {
		f.Store(true)
	}
}
