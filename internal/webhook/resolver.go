package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"

	"github.com/archwaydev/archway/internal/lookup"
)

// LookupFunc looks up the platforms of one image reference.
// (*registry.Client).Lookup satisfies it.
type LookupFunc func(ctx context.Context, ref string) lookup.Result

// ResolverOptions configure a Resolver. Zero fields take the defaults.
type ResolverOptions struct {
	// CacheSize is the number of entries the in-memory LRU holds; default 4096.
	CacheSize int
	// TagTTL is how long a lookup by tag is reused; default 5m. Lookups by
	// digest are immutable and kept until evicted.
	TagTTL time.Duration
	// ErrorTTL is how long a failed lookup is reused, so a registry outage
	// does not turn every admission into a request; default 10s.
	ErrorTTL time.Duration
	// LookupTimeout bounds one registry lookup, which runs on after the
	// admission that started it has given up so that the next admission
	// finds the answer cached; default 30s.
	LookupTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Resolver answers lookups from an in-memory cache and makes at most one
// registry request at a time per reference and credentials, however many
// admissions ask. Safe for concurrent use.
type Resolver struct {
	opts    ResolverOptions
	cache   *lru[lookup.Result]
	group   singleflight.Group
	metrics *Metrics
}

// NewResolver returns a Resolver. m may be nil.
func NewResolver(opts ResolverOptions, m *Metrics) *Resolver {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 4096
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
	return &Resolver{opts: opts, cache: newLRU[lookup.Result](opts.CacheSize), metrics: m}
}

// Resolve returns what lookup says about ref. authKey identifies the
// credentials lookup uses (Credentials.Key): successful results are shared by
// everyone, since an image's platforms do not depend on who asks, but
// lookups in flight and failures are shared only by callers with the same
// authKey. When ctx ends first, Resolve returns a timeout Result while the
// lookup goes on to fill the cache.
func (r *Resolver) Resolve(ctx context.Context, ref, authKey string, fn LookupFunc) lookup.Result {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseBadReference, Err: err}}
	}
	key := parsed.Name()
	errKey := key + "\x00" + authKey
	now := r.opts.Now()
	if res, ok := r.cache.get(key, now); ok {
		r.hit()
		res.Ref = ref
		return res
	}
	if res, ok := r.cache.get(errKey, now); ok {
		r.hit()
		res.Ref = ref
		return res
	}
	r.miss()
	_, byDigest := parsed.(name.Digest)
	ch := r.group.DoChan(errKey, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.LookupTimeout)
		defer cancel()
		start := time.Now()
		res := safeLookup(lctx, fn, ref)
		r.observe(time.Since(start), res.Err)
		switch {
		case res.Err != nil:
			r.cache.add(errKey, res, r.opts.Now().Add(r.opts.ErrorTTL))
		case byDigest:
			r.cache.add(key, res, time.Time{})
		default:
			r.cache.add(key, res, r.opts.Now().Add(r.opts.TagTTL))
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
			Ref: ref, Cause: lookup.CauseTimeout, Err: fmt.Errorf("admission budget exhausted: %w", context.Cause(ctx)),
		}}
	}
}

func (r *Resolver) hit() {
	if r.metrics != nil {
		r.metrics.CacheHits.Inc()
	}
}

func (r *Resolver) miss() {
	if r.metrics != nil {
		r.metrics.CacheMisses.Inc()
	}
}

func (r *Resolver) observe(d time.Duration, err error) {
	if r.metrics == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
		r.metrics.RegistryErrors.WithLabelValues(string(lookup.CauseOf(err))).Inc()
	}
	r.metrics.LookupDuration.WithLabelValues(result).Observe(d.Seconds())
}

// safeLookup calls lookup, turning a panic into a failed Result: a panic in
// a singleflight.DoChan function would crash the process.
func safeLookup(ctx context.Context, fn LookupFunc, ref string) (res lookup.Result) {
	defer func() {
		if v := recover(); v != nil {
			res = lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseUnknown, Err: fmt.Errorf("lookup panicked: %v", v)}}
		}
	}()
	return fn(ctx, ref)
}
