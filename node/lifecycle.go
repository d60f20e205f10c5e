package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// lifecycle closes what Start opened, in reverse order. Start adds each
// component as soon as it is open, so a start that fails half-way closes
// exactly what it had opened.
type lifecycle struct {
	mu    sync.Mutex
	steps []step
}

type step struct {
	name  string
	close func() error
}

// add registers close for the component just opened. Safe for concurrent
// use (components open side by side); the order among those is theirs.
func (l *lifecycle) add(name string, close func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, step{name, close})
}

// close closes every component, last opened first, and forgets them.
func (l *lifecycle) close() error {
	l.mu.Lock()
	steps := l.steps
	l.steps = nil
	l.mu.Unlock()
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", steps[i].name, err))
		}
	}
	return errors.Join(errs...)
}

// background runs the node's goroutines that outlive Start (loading the
// catalogue view, republishing, polling authorities) until Close cancels
// and waits for them.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newBackground() *background {
	b := &background{}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b
}

// Go runs fn with a context that Close cancels.
func (b *background) Go(fn func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn(b.ctx)
	}()
}

// Close cancels every goroutine and waits for them.
func (b *background) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}
