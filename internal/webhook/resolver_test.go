package webhook_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/webhook"
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

func TestResolverSingleflight(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	m := webhook.NewMetrics()
	r := webhook.NewResolver(webhook.ResolverOptions{}, m)
	const n = 100
	var wg sync.WaitGroup
	results := make([]lookup.Result, n)
	for i := range n {
		wg.Go(func() { results[i] = r.Resolve(context.Background(), "example.test/new:1", "ns/default/", g.lookup) })
	}
	// Let every caller join the flight before the lookup answers.
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, m, "archway_webhook_cache_misses_total", "", "") < n && time.Now().Before(deadline) {
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
	r.Resolve(context.Background(), "example.test/new:1", "other/sa/", g.lookup)
	if c := g.calls.Load(); c != 1 {
		t.Errorf("%d lookups after a cached answer, want 1", c)
	}
	if h := counter(t, m, "archway_webhook_cache_hits_total", "", ""); h != 1 {
		t.Errorf("cache hits = %v, want 1", h)
	}
}

func TestResolverExpiry(t *testing.T) {
	const digestRef = "example.test/app@sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		name      string
		ref       string
		fail      bool
		authKey2  string // the second caller's credentials
		after     time.Duration
		wantCalls int64
	}{
		{name: "tag reused within its TTL", ref: "example.test/app:1", after: 4 * time.Minute, wantCalls: 1},
		{name: "tag looked up again after its TTL", ref: "example.test/app:1", after: 6 * time.Minute, wantCalls: 2},
		{name: "digest kept for ever", ref: digestRef, after: 1000 * time.Hour, wantCalls: 1},
		{name: "success shared across credentials", ref: "example.test/app:1", authKey2: "b", wantCalls: 1},
		{name: "failure reused briefly", ref: "example.test/app:1", fail: true, after: 5 * time.Second, wantCalls: 1},
		{name: "failure retried after its TTL", ref: "example.test/app:1", fail: true, after: 11 * time.Second, wantCalls: 2},
		{name: "failure not shared across credentials", ref: "example.test/app:1", fail: true, authKey2: "b", wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1e9, 0)}
			g := &gated{fail: tc.fail}
			r := webhook.NewResolver(webhook.ResolverOptions{Now: c.Now}, nil)
			first := r.Resolve(context.Background(), tc.ref, "a", g.lookup)
			if (first.Err != nil) != tc.fail {
				t.Fatalf("first = %+v", first)
			}
			c.advance(tc.after)
			key2 := tc.authKey2
			if key2 == "" {
				key2 = "a"
			}
			second := r.Resolve(context.Background(), tc.ref, key2, g.lookup)
			if (second.Err != nil) != tc.fail {
				t.Fatalf("second = %+v", second)
			}
			if got := g.calls.Load(); got != tc.wantCalls {
				t.Errorf("%d lookups, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestResolverLRUEviction(t *testing.T) {
	g := &gated{}
	r := webhook.NewResolver(webhook.ResolverOptions{CacheSize: 2}, nil)
	for _, ref := range []string{"example.test/a:1", "example.test/b:1", "example.test/a:1", "example.test/c:1", "example.test/a:1", "example.test/b:1"} {
		r.Resolve(context.Background(), ref, "", g.lookup)
	}
	// a, b, (a hit), c evicts b, (a hit), b again: 4 lookups.
	if got := g.calls.Load(); got != 4 {
		t.Errorf("%d lookups, want 4", got)
	}
}

func TestResolverBudgetLeavesLookupRunning(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	r := webhook.NewResolver(webhook.ResolverOptions{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res := r.Resolve(ctx, "example.test/slow:1", "", g.lookup)
	if lookup.CauseOf(res.Err) != lookup.CauseTimeout {
		t.Fatalf("cause %q, want timeout: %v", lookup.CauseOf(res.Err), res.Err)
	}
	close(g.release)
	// The lookup finishes in the background and fills the cache.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if res := r.Resolve(context.Background(), "example.test/slow:1", "", g.lookup); res.Err == nil {
			if got := g.calls.Load(); got != 1 {
				t.Errorf("%d lookups, want 1", got)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the abandoned lookup never filled the cache")
}

func TestResolverLookupPanic(t *testing.T) {
	r := webhook.NewResolver(webhook.ResolverOptions{}, nil)
	res := r.Resolve(context.Background(), "example.test/a:1", "", func(context.Context, string) lookup.Result { panic("boom") })
	if res.Err == nil || lookup.CauseOf(res.Err) != lookup.CauseUnknown {
		t.Fatalf("result %+v, want an unknown failure", res)
	}
}
