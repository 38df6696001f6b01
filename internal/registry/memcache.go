package registry

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"

	"github.com/archwaydev/archway/internal/lookup"
)

// CacheObserver hears what a MemCache does, e.g. to count it in metrics.
type CacheObserver interface {
	// CacheHit is called for a lookup answered from memory.
	CacheHit()
	// CacheMiss is called for a lookup not in memory.
	CacheMiss()
	// LookedUp is called after each registry lookup a miss started.
	LookedUp(d time.Duration, err error)
}

// MemCacheOptions configure a MemCache. Zero fields take the defaults.
type MemCacheOptions struct {
	// Size is the number of entries kept; default 4096.
	Size int
	// TagTTL is how long a lookup by tag is reused; default 5m. Lookups by
	// digest are immutable and kept until evicted.
	TagTTL time.Duration
	// ErrorTTL is how long a failed lookup is reused, so a registry outage
	// does not turn every caller into a request; default 10s.
	ErrorTTL time.Duration
	// LookupTimeout bounds one registry lookup, which runs on after the
	// caller that started it has given up so that the next caller finds
	// the answer cached; default 30s.
	LookupTimeout time.Duration
	// MaxInFlight caps the registry lookups running at once, those that
	// run on after their caller gave up included; past it a lookup is not
	// started and its caller gets CauseBusy at once. Default 256.
	MaxInFlight int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Observer hears hits, misses and lookups; nil hears nothing.
	Observer CacheObserver
}

// MemCache answers lookups from a bounded in-memory LRU and makes at most
// one registry request at a time per reference and credentials, however
// many callers ask. Entries are keyed by the canonical reference and the
// credentials' key (CredentialKey): anonymous lookups are shared by every
// caller, a lookup made with credentials only by callers holding the same
// ones, so a private image's answer never reaches a caller that could not
// read it. Safe for concurrent use.
type MemCache struct {
	opts    MemCacheOptions
	entries *lru[lookup.Result]
	group   singleflight.Group

	mu       sync.Mutex
	inFlight map[string]bool // keys whose lookup runs
}

// NewMemCache returns an empty MemCache.
func NewMemCache(opts MemCacheOptions) *MemCache {
	if opts.Size <= 0 {
		opts.Size = 4096
	}
	if opts.TagTTL <= 0 {
		opts.TagTTL = 5 * time.Minute
	}
	if opts.ErrorTTL <= 0 {
		opts.ErrorTTL = 10 * time.Second
	}
	if opts.LookupTimeout <= 0 {
		opts.LookupTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 256
	}
	return &MemCache{opts: opts, entries: newLRU[lookup.Result](opts.Size), inFlight: map[string]bool{}}
}

// Lookup returns what fn, which authenticates with the credentials credKey
// names ("" for anonymous), says about ref. When ctx ends first it
// returns a timeout Result while the lookup goes on to fill the cache.
func (c *MemCache) Lookup(ctx context.Context, ref, credKey string, fn lookup.Func) lookup.Result {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseBadReference, Err: err}}
	}
	key := parsed.Name() + "\x00" + credKey
	if res, ok := c.entries.get(key, c.opts.Now()); ok {
		c.hit()
		res.Ref = ref
		return res
	}
	c.miss()
	if !c.start(key) {
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseBusy,
			Err: fmt.Errorf("%d registry lookups already in flight: not started", c.opts.MaxInFlight)}}
	}
	_, byDigest := parsed.(name.Digest)
	ch := c.group.DoChan(key, func() (any, error) {
		defer c.finish(key)
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LookupTimeout)
		defer cancel()
		start := time.Now()
		res := recoverLookup(lctx, fn, ref)
		c.observe(time.Since(start), res.Err)
		switch {
		case res.Err != nil:
			c.entries.add(key, res, c.opts.Now().Add(c.opts.ErrorTTL))
		case byDigest:
			c.entries.add(key, res, time.Time{})
		default:
			c.entries.add(key, res, c.opts.Now().Add(c.opts.TagTTL))
		}
		return res, nil
	})
	select {
	case out := <-ch:
		res := out.Val.(lookup.Result)
		res.Ref = ref
		return res
	case <-ctx.Done():
		return lookup.Result{Ref: ref, Err: &lookup.Error{
			Ref: ref, Cause: lookup.CauseTimeout, Err: fmt.Errorf("lookup budget exhausted: %w", context.Cause(ctx)),
		}}
	}
}

// start claims a slot for key's lookup; a key already in flight needs
// none (its callers share one lookup). false when every slot is taken.
func (c *MemCache) start(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[key] {
		return true
	}
	if len(c.inFlight) >= c.opts.MaxInFlight {
		return false
	}
	c.inFlight[key] = true
	return true
}

// finish frees key's slot.
func (c *MemCache) finish(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inFlight, key)
}

func (c *MemCache) hit() {
	if c.opts.Observer != nil {
		c.opts.Observer.CacheHit()
	}
}

func (c *MemCache) miss() {
	if c.opts.Observer != nil {
		c.opts.Observer.CacheMiss()
	}
}

func (c *MemCache) observe(d time.Duration, err error) {
	if c.opts.Observer != nil {
		c.opts.Observer.LookedUp(d, err)
	}
}

// recoverLookup calls lookup, turning a panic into a failed Result: a panic in
// a singleflight.DoChan function would crash the process.
func recoverLookup(ctx context.Context, fn lookup.Func, ref string) (res lookup.Result) {
	defer func() {
		if v := recover(); v != nil {
			res = lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseUnknown, Err: fmt.Errorf("lookup panicked: %v", v)}}
		}
	}()
	return fn(ctx, ref)
}

// lru is a size-bounded least-recently-used map whose entries may expire.
// Safe for concurrent use.
type lru[V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recently used; elements hold *lruItem[V]
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key     string
	value   V
	expires time.Time // zero: never
}

// newLRU returns an lru holding at most size entries (at least 1).
func newLRU[V any](size int) *lru[V] {
	if size < 1 {
		size = 1
	}
	return &lru[V]{size: size, order: list.New(), items: make(map[string]*list.Element, size)}
}

// get returns the live value under key; an expired entry is dropped.
func (c *lru[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*lruItem[V])
	if !it.expires.IsZero() && !now.Before(it.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return it.value, true
}

// add stores value under key until expires (zero: until evicted).
func (c *lru[V]) add(key string, value V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		it := el.Value.(*lruItem[V])
		it.value, it.expires = value, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruItem[V]{key: key, value: value, expires: expires})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem[V]).key)
	}
}
