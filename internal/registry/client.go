package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/singleflight"

	"github.com/archwaydev/archway/internal/lookup"
)

// Client looks up the platforms of image references. Safe for concurrent
// use; one Client shares its auth transports, connections, cache and
// in-flight lookups among all callers.
type Client struct {
	o     *options
	base  http.RoundTripper // user agent, retries and timeouts over the caller's transport
	retry *retryTransport
	cache *cache

	stats    *hostStats // requests by host
	quotas   *quotas    // pull quotas by registry and credentials
	breakers *breakers  // circuit breakers by host
	notes    notes

	flight   singleflight.Group            // in-flight lookups by canonical reference
	pings    onceMap[*transport.Challenge] // by registry
	auths    onceMap[authn.Authenticator]  // by repository
	scopes   onceMap[*scope]               // by repository
	tagLists tagLists                      // tag lists and the Hub API's rate limit (tags.go)
}

// New returns a Client configured by opts.
func New(opts ...Option) (*Client, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	stats := &hostStats{}
	retry := &retryTransport{
		inner:    &hostTransport{inner: &redactTransport{inner: o.transport}, jobs: o.hostJobs, stats: stats},
		attempts: o.attempts,
		maxWait:  o.maxWait,
		timeout:  o.requestTimeout,
		log:      o.logger,
	}
	brk := &breakers{failures: o.breakFailures, cooldown: o.breakCooldown, now: time.Now}
	base := transport.NewUserAgent(&breakerTransport{inner: retry, b: brk}, "archway")
	dir := o.cacheDir
	if o.noCache {
		dir = ""
	}
	c := &Client{o: o, base: base, retry: retry, cache: newCache(dir, o.tagTTL, o.logger),
		stats: stats, quotas: newQuotas(o.pullReserve), breakers: brk}
	c.notes.log = o.logger
	for _, n := range o.notes {
		c.notes.add(n, n)
	}
	return c, nil
}

// Lookup resolves one reference. It never returns an error: a failure is in
// Result.Err, a *Error whose Cause says why, and then the platforms are
// unknown (never "unsupported").
func (c *Client) Lookup(ctx context.Context, ref string) lookup.Result {
	r, err := c.parse(ref)
	if err != nil {
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseBadReference, Err: err}}
	}
	res := withRef(c.shared(ctx, r), ref)
	if res.Err != nil {
		c.o.logger.Debug("registry lookup failed", "ref", ref, "cause", lookup.CauseOf(res.Err), "err", res.Err)
	} else {
		c.o.logger.Debug("registry lookup", "ref", ref, "digest", res.Digest, "platforms", res.Platforms().String())
	}
	return res
}

// shared runs one lookup per canonical reference at a time: concurrent
// callers share it. A caller whose ctx ends first stops waiting; a caller
// that got the failure of another caller's cancelled ctx tries once more.
func (c *Client) shared(ctx context.Context, r name.Reference) lookup.Result {
	for try := 0; ; try++ {
		ch := c.flight.DoChan(r.Name(), func() (any, error) { return c.safeLookup(ctx, r), nil })
		select {
		case <-ctx.Done():
			return fail(r, ctx.Err())
		case v := <-ch:
			res := v.Val.(lookup.Result)
			if try == 0 && errors.Is(res.Err, context.Canceled) && ctx.Err() == nil {
				continue
			}
			return res
		}
	}
}

// safeLookup is lookup that turns a panic (a bug, or input no test
// foresaw) into a failed Result.
func (c *Client) safeLookup(ctx context.Context, r name.Reference) (res lookup.Result) {
	defer func() {
		if p := recover(); p != nil {
			c.o.logger.Error("registry lookup panicked", "ref", r.Name(), "panic", p, "stack", string(debug.Stack()))
			res = fail(r, fmt.Errorf("internal error: %v", p))
		}
	}()
	return c.lookup(ctx, r)
}

// LookupAll looks up refs with bounded concurrency (WithJobs), each
// distinct ref once, through lookup.All; results[i] is for refs[i], with
// its own Entries and error. progress (may be nil) is called after each
// lookup, never concurrently.
func (c *Client) LookupAll(ctx context.Context, refs []string, progress func(lookup.Progress)) []lookup.Result {
	results := lookup.All(ctx, c.Lookup, refs, c.o.jobs, progress)
	for i, ref := range refs {
		results[i] = withRef(results[i], ref)
	}
	return results
}

// parse reads a reference with go-containerregistry's rules (Docker Hub
// defaults, tag latest, name:tag@digest keeps the digest), marking
// registries of WithInsecure as plain HTTP.
func (c *Client) parse(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	reg := r.Context().RegistryStr()
	for _, in := range c.o.insecure {
		if in == reg {
			return name.ParseReference(ref, name.Insecure)
		}
	}
	return r, nil
}

// withRef returns a copy of res for the caller's spelling of the reference,
// with its own Entries slice and error.
func withRef(res lookup.Result, ref string) lookup.Result {
	res.Ref = ref
	res.Entries = slices.Clone(res.Entries)
	if e, ok := res.Err.(*lookup.Error); ok {
		cp := *e
		cp.Ref = ref
		res.Err = &cp
	}
	return res
}

// fail builds a failed Result.
func fail(r name.Reference, err error) lookup.Result {
	e := classify(err)
	e.Ref = r.String()
	return lookup.Result{Name: r.Name(), Err: e}
}

// onceMap runs a function once per key and keeps its value; a failure is
// shared with callers already waiting but not kept, so a later call tries
// again.
type onceMap[T any] struct {
	mu sync.Mutex
	m  map[string]*onceEntry[T]
}

type onceEntry[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (m *onceMap[T]) get(ctx context.Context, key string, f func() (T, error)) (T, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[string]*onceEntry[T]{}
	}
	e, ok := m.m[key]
	if !ok {
		e = &onceEntry[T]{done: make(chan struct{})}
		m.m[key] = e
		m.mu.Unlock()
		e.val, e.err = f()
		if e.err != nil {
			m.mu.Lock()
			delete(m.m, key)
			m.mu.Unlock()
		}
		close(e.done)
		return e.val, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for %s: %w", key, ctx.Err())
	}
}
