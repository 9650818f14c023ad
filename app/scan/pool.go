package scan

import (
	"context"
	"sync"
)

// pool runs submitted calls on a fixed number of workers while producers
// (the page walkers, and calls that discover more calls) keep submitting,
// so a sequential walk over cursor pages overlaps with the per-item calls
// it finds. The queue is unbounded: a call that submits from inside a
// worker must never wait for a worker. The first error cancels the rest.
type pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func(context.Context) error
	pending int  // submitted and not yet finished
	closing bool // wait was called: workers leave once nothing is pending
	err     error
}

func newPool(ctx context.Context, workers int) *pool {
	p := &pool{}
	p.cond = sync.NewCond(&p.mu)
	p.ctx, p.cancel = context.WithCancel(ctx)
	for range max(1, workers) {
		p.wg.Go(p.work)
	}
	return p
}

func (p *pool) work() {
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !(p.closing && p.pending == 0) {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		fn := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		if p.ctx.Err() == nil { // after a failure the rest is only drained
			if err := fn(p.ctx); err != nil {
				p.fail(err)
			}
		}
		p.mu.Lock()
		p.pending--
		if p.pending == 0 {
			p.cond.Broadcast()
		}
		p.mu.Unlock()
	}
}

// submit queues fn; it reports false once the pool has failed.
func (p *pool) submit(fn func(context.Context) error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return false
	}
	p.queue = append(p.queue, fn)
	p.pending++
	p.cond.Signal()
	return true
}

// fail stops the pool; the first error is the one wait returns.
func (p *pool) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cancel()
}

// wait lets everything submitted (and everything that submits) finish,
// and returns the first error.
func (p *pool) wait() error {
	p.mu.Lock()
	p.closing = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	// A cancelled scan skipped the calls still queued: it must not look
	// complete, so the cancellation is the error when nothing failed.
	cancelled := p.ctx.Err()
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil && cancelled != nil {
		return cancelled
	}
	return p.err
}
