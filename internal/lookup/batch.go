package lookup

import (
	"context"
	"sync"
)

// Func looks one reference up. It never fails: a failure is in Result.Err.
// registry.Client's Lookup is one.
type Func func(ctx context.Context, ref string) Result

// Progress is how far a batch has got. Found counts the distinct
// references added so far; Total is Found once every reference has been
// added (Close), and 0 while more may come, so a progress bar never shows
// a total it does not know.
type Progress struct {
	Done, Found, Total int
}

// Batch looks references up as they are added, each distinct one once, at
// most jobs at a time. It is the one bulk-lookup path: check, scan, place
// and the webhook go through it, and a scan adds references while its
// inputs are still being read.
type Batch struct {
	ctx      context.Context
	fn       Func
	progress func(Progress)
	work     chan string
	wg       sync.WaitGroup

	mu      sync.Mutex
	results map[string]Result
	seen    map[string]bool
	done    int
	closed  bool
}

// NewBatch starts jobs workers (at least one) that look references up with
// fn. progress (may be nil) is called after each lookup and on Close,
// never concurrently.
func NewBatch(ctx context.Context, fn Func, jobs int, progress func(Progress)) *Batch {
	b := &Batch{
		ctx: ctx, fn: fn, progress: progress, work: make(chan string),
		results: map[string]Result{}, seen: map[string]bool{},
	}
	for range max(jobs, 1) {
		b.wg.Go(func() {
			for ref := range b.work {
				r := fn(ctx, ref)
				b.mu.Lock()
				b.results[ref] = r
				b.done++
				b.report()
				b.mu.Unlock()
			}
		})
	}
	return b
}

// Add queues the references not added before. It blocks while every
// worker is busy, so a reader adding references is paced by the lookups.
// It must not be called after Close.
func (b *Batch) Add(refs ...string) {
	for _, ref := range refs {
		b.mu.Lock()
		if b.seen[ref] {
			b.mu.Unlock()
			continue
		}
		b.seen[ref] = true
		b.mu.Unlock()
		b.work <- ref
	}
}

// Close says no more references will come; Wait returns once the queued
// lookups are done.
func (b *Batch) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.report()
	b.mu.Unlock()
	close(b.work)
}

// Wait waits until the batch is closed and every lookup is done, and
// returns the results by reference.
func (b *Batch) Wait() map[string]Result {
	b.wg.Wait()
	return b.results
}

// report calls progress; b.mu is held.
func (b *Batch) report() {
	if b.progress == nil {
		return
	}
	p := Progress{Done: b.done, Found: len(b.seen)}
	if b.closed {
		p.Total = p.Found
	}
	b.progress(p)
}

// All looks refs up through a Batch and returns results[i] for refs[i],
// each distinct reference looked up once.
func All(ctx context.Context, fn Func, refs []string, jobs int, progress func(Progress)) []Result {
	b := NewBatch(ctx, fn, jobs, progress)
	go func() {
		b.Add(refs...)
		b.Close()
	}()
	results := b.Wait()
	out := make([]Result, len(refs))
	for i, ref := range refs {
		out[i] = results[ref]
	}
	return out
}
