package registry_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// gated is a lookup that counts calls and blocks until released.
type gated struct {
	calls   atomic.Int64
	release chan struct{}
	fail    bool
}

func (g *gated) lookup(ctx context.Context, ref string) lookup.Result {
	g.calls.Add(1)
	if g.release != nil {
		<-g.release
	}
	if g.fail {
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseServerError, StatusCode: 503}}
	}
	return lookup.Result{Ref: ref, Entries: []lookup.Entry{{Platform: platform.LinuxARM64}}}
}

// observer counts what a MemCache reports.
type observer struct{ hits, misses, lookups atomic.Int64 }

func (o *observer) CacheHit()                     { o.hits.Add(1) }
func (o *observer) CacheMiss()                    { o.misses.Add(1) }
func (o *observer) LookedUp(time.Duration, error) { o.lookups.Add(1) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemCacheSingleflight(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	o := &observer{}
	r := registry.NewMemCache(registry.MemCacheOptions{Observer: o})
	const n = 100
	var wg sync.WaitGroup
	results := make([]lookup.Result, n)
	for i := range n {
		wg.Go(func() { results[i] = r.Lookup(context.Background(), "example.test/new:1", "", g.lookup) })
	}
	// Let every caller join the flight before the lookup answers.
	deadline := time.Now().Add(5 * time.Second)
	for o.misses.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	if c := g.calls.Load(); c != 1 {
		t.Errorf("%d lookups for %d concurrent callers, want 1", c, n)
	}
	for i, res := range results {
		if res.Err != nil || res.Ref != "example.test/new:1" || len(res.Entries) != 1 {
			t.Fatalf("result %d = %+v", i, res)
		}
	}
	// Now cached: no new lookup, counted as a hit.
	r.Lookup(context.Background(), "example.test/new:1", "", g.lookup)
	if c := g.calls.Load(); c != 1 {
		t.Errorf("%d lookups after a cached answer, want 1", c)
	}
	if h, l := o.hits.Load(), o.lookups.Load(); h != 1 || l != 1 {
		t.Errorf("cache hits = %d, lookups = %d, want 1 and 1", h, l)
	}
}

func TestMemCacheExpiry(t *testing.T) {
	const digestRef = "example.test/app@sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		name      string
		ref       string
		fail      bool
		authKey1  string // the first caller's credentials ("" = "sha256:a", "-" = anonymous)
		authKey2  string // the second caller's (likewise)
		after     time.Duration
		wantCalls int64
	}{
		{name: "tag reused within its TTL", ref: "example.test/app:1", after: 4 * time.Minute, wantCalls: 1},
		{name: "tag looked up again after its TTL", ref: "example.test/app:1", after: 6 * time.Minute, wantCalls: 2},
		{name: "digest kept for ever", ref: digestRef, after: 1000 * time.Hour, wantCalls: 1},
		{name: "success not shared across credentials", ref: "example.test/app:1", authKey2: "sha256:b", wantCalls: 2},
		{name: "success shared by anonymous callers", ref: "example.test/app:1", authKey1: "-", authKey2: "-", wantCalls: 1},
		{name: "anonymous success not reused with credentials", ref: "example.test/app:1", authKey1: "-", authKey2: "sha256:b", wantCalls: 2},
		{name: "failure reused briefly", ref: "example.test/app:1", fail: true, after: 5 * time.Second, wantCalls: 1},
		{name: "failure retried after its TTL", ref: "example.test/app:1", fail: true, after: 11 * time.Second, wantCalls: 2},
		{name: "failure not shared across credentials", ref: "example.test/app:1", fail: true, authKey2: "sha256:b", wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1e9, 0)}
			g := &gated{fail: tc.fail}
			r := registry.NewMemCache(registry.MemCacheOptions{Now: c.Now})
			key := func(k string) string {
				switch k {
				case "":
					return "sha256:a"
				case "-":
					return ""
				}
				return k
			}
			first := r.Lookup(context.Background(), tc.ref, key(tc.authKey1), g.lookup)
			if (first.Err != nil) != tc.fail {
				t.Fatalf("first = %+v", first)
			}
			c.advance(tc.after)
			second := r.Lookup(context.Background(), tc.ref, key(tc.authKey2), g.lookup)
			if (second.Err != nil) != tc.fail {
				t.Fatalf("second = %+v", second)
			}
			if got := g.calls.Load(); got != tc.wantCalls {
				t.Errorf("%d lookups, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestMemCacheLRUEviction(t *testing.T) {
	g := &gated{}
	r := registry.NewMemCache(registry.MemCacheOptions{Size: 2})
	for _, ref := range []string{"example.test/a:1", "example.test/b:1", "example.test/a:1", "example.test/c:1", "example.test/a:1", "example.test/b:1"} {
		r.Lookup(context.Background(), ref, "", g.lookup)
	}
	// a, b, (a hit), c evicts b, (a hit), b again: 4 lookups.
	if got := g.calls.Load(); got != 4 {
		t.Errorf("%d lookups, want 4", got)
	}
}

func TestMemCacheBudgetLeavesLookupRunning(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	r := registry.NewMemCache(registry.MemCacheOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res := r.Lookup(ctx, "example.test/slow:1", "", g.lookup)
	if lookup.CauseOf(res.Err) != lookup.CauseTimeout {
		t.Fatalf("cause %q, want timeout: %v", lookup.CauseOf(res.Err), res.Err)
	}
	close(g.release)
	// The lookup finishes in the background and fills the cache.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if res := r.Lookup(context.Background(), "example.test/slow:1", "", g.lookup); res.Err == nil {
			if got := g.calls.Load(); got != 1 {
				t.Errorf("%d lookups, want 1", got)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the abandoned lookup never filled the cache")
}

func TestMemCacheLookupPanic(t *testing.T) {
	r := registry.NewMemCache(registry.MemCacheOptions{})
	res := r.Lookup(context.Background(), "example.test/a:1", "", func(context.Context, string) lookup.Result { panic("boom") })
	if res.Err == nil || lookup.CauseOf(res.Err) != lookup.CauseUnknown {
		t.Fatalf("result %+v, want an unknown failure", res)
	}
}

// TestMemCacheMaxInFlight: lookups that run on after their callers gave up
// count against MaxInFlight; past it a new lookup is not started and its
// caller hears "busy" at once, and a caller of a reference already in
// flight still shares it.
func TestMemCacheMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	fn := func(ctx context.Context, ref string) lookup.Result {
		started.Add(1)
		<-release
		return lookup.Result{Ref: ref}
	}
	c := registry.NewMemCache(registry.MemCacheOptions{MaxInFlight: 2})
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for _, ref := range []string{"example.com/a:1", "example.com/b:1"} {
		if r := c.Lookup(short(), ref, "", fn); lookup.CauseOf(r.Err) != lookup.CauseTimeout {
			t.Fatalf("%s: %v, want the caller's budget to run out while the lookup hangs", ref, r.Err)
		}
	}
	begin := time.Now()
	if r := c.Lookup(short(), "example.com/c:1", "", fn); lookup.CauseOf(r.Err) != lookup.CauseBusy || time.Since(begin) > 10*time.Millisecond {
		t.Errorf("third lookup: %v after %s, want busy at once", r.Err, time.Since(begin))
	}
	if r := c.Lookup(short(), "example.com/a:1", "", fn); lookup.CauseOf(r.Err) != lookup.CauseTimeout {
		t.Errorf("a reference already in flight: %v, want it shared (timeout), not busy", r.Err)
	}
	if n := started.Load(); n != 2 {
		t.Errorf("%d lookups started, want 2", n)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r := c.Lookup(context.Background(), "example.com/c:1", "", fn); r.Err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot came free after the lookups ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
