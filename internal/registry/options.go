package registry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Defaults of the options.
const (
	DefaultJobs             = 32
	DefaultTagTTL           = time.Hour
	DefaultRequestTimeout   = 30 * time.Second
	DefaultMaxManifestBytes = 4 << 20
	DefaultRetryAttempts    = 4
	DefaultRetryMaxWait     = 30 * time.Second
	DefaultJobsPerRegistry  = 16
	DefaultBreakerFailures  = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

// Option configures a Client.
type Option func(*options) error

type basicCred struct {
	registry string // canonical registry name, e.g. index.docker.io
	user     string
	pass     string
}

type options struct {
	jobs           int
	cacheDir       string
	noCache        bool
	tagTTL         time.Duration
	insecure       []string
	keychain       authn.Keychain
	basic          []basicCred
	transport      http.RoundTripper
	requestTimeout time.Duration
	maxBytes       int64
	logger         *slog.Logger
	attempts       int
	maxWait        time.Duration
	pullReserve    int
	hostJobs       int
	breakFailures  int
	breakCooldown  time.Duration
	mirrors        map[string][]mirror // by canonical origin registry
	notes          []string            // said while reading the options
}

// WithJobs sets how many lookups LookupAll runs at once; default 32.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs must be at least 1, got %d", n)
		}
		o.jobs = n
		return nil
	}
}

// WithCacheDir sets the on-disk cache directory; default
// os.UserCacheDir()/archway ($XDG_CACHE_HOME/archway on Linux).
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("cache dir must not be empty")
		}
		o.cacheDir, o.noCache = dir, false
		return nil
	}
}

// WithoutCache turns the on-disk cache off; by default it is on. Lookups
// still share results in memory for the life of the Client.
func WithoutCache() Option {
	return func(o *options) error {
		o.noCache = true
		return nil
	}
}

// WithTagTTL sets how long a cached tag → digest mapping is trusted;
// default 1h. Zero means tags are always resolved again.
func WithTagTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("tag TTL must not be negative, got %s", d)
		}
		o.tagTTL = d
		return nil
	}
}

// WithInsecure makes the client use plain HTTP for these registries
// (host[:port]); by default only localhost, loopback and private-network
// registries may fall back to plain HTTP.
func WithInsecure(registries ...string) Option {
	return func(o *options) error {
		o.insecure = append(o.insecure, registries...)
		return nil
	}
}

// WithKeychain sets where credentials come from; default
// authn.DefaultKeychain (docker config.json and credential helpers).
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("keychain must not be nil")
		}
		o.keychain = k
		return nil
	}
}

// WithBasicAuth sets explicit credentials for one registry (host[:port],
// "docker.io" for Docker Hub); they win over the keychain. By default there
// are none.
func WithBasicAuth(registry, user, pass string) Option {
	return func(o *options) error {
		reg, err := name.NewRegistry(registry)
		if err != nil {
			return fmt.Errorf("basic auth registry %q: %w", registry, err)
		}
		o.basic = append(o.basic, basicCred{registry: reg.RegistryStr(), user: user, pass: pass})
		return nil
	}
}

// WithTransport sets the base HTTP transport under auth and retries;
// default a clone of http.DefaultTransport that keeps enough idle
// connections per host for the configured jobs.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("transport must not be nil")
		}
		o.transport = rt
		return nil
	}
}

// WithRequestTimeout bounds each HTTP request, body included; default 30s.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("request timeout must be positive, got %s", d)
		}
		o.requestTimeout = d
		return nil
	}
}

// WithMaxManifestBytes caps the size of a manifest or config blob; larger
// ones are refused with CauseTooLarge without being read. Default 4 MiB.
func WithMaxManifestBytes(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max manifest bytes must be positive, got %d", n)
		}
		o.maxBytes = n
		return nil
	}
}

// WithLogger sets the logger for debug details of requests and retries;
// default discards. Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("logger must not be nil")
		}
		o.logger = l
		return nil
	}
}

// WithRetry sets how many times a request is tried (attempts ≥ 1) on 429,
// 5xx and connection resets, and the longest wait between tries, which also
// caps a Retry-After header. Default 4 attempts, 30s.
func WithRetry(attempts int, maxWait time.Duration) Option {
	return func(o *options) error {
		if attempts < 1 {
			return fmt.Errorf("retry attempts must be at least 1, got %d", attempts)
		}
		if maxWait < 0 {
			return fmt.Errorf("retry max wait must not be negative, got %s", maxWait)
		}
		o.attempts, o.maxWait = attempts, maxWait
		return nil
	}
}

// WithPullReserve sets how many pulls (manifest GETs) of a metered
// registry's quota to leave unspent: once the ratelimit-remaining it
// reports reaches n, no more manifest GETs are sent there and its lookups
// fail at once as CauseRateLimited. Default 0.
func WithPullReserve(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("pull reserve must not be negative, got %d", n)
		}
		o.pullReserve = n
		return nil
	}
}

// WithJobsPerRegistry bounds the requests in flight to one registry host;
// default 16.
func WithJobsPerRegistry(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs per registry must be at least 1, got %d", n)
		}
		o.hostJobs = n
		return nil
	}
}

// WithCircuitBreaker sets how many consecutive timeouts, 5xx answers or
// network failures (each after its retries) open a registry host's
// breaker, and how long it then stays open: its lookups fail at once as
// CauseUnavailable, with no request. failures 0 turns the breaker off.
// Default 5 failures, 30s.
func WithCircuitBreaker(failures int, cooldown time.Duration) Option {
	return func(o *options) error {
		if failures < 0 || cooldown < 0 {
			return fmt.Errorf("circuit breaker: failures %d and cooldown %s must not be negative", failures, cooldown)
		}
		o.breakFailures, o.breakCooldown = failures, cooldown
		return nil
	}
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		jobs:           DefaultJobs,
		tagTTL:         DefaultTagTTL,
		keychain:       authn.DefaultKeychain,
		requestTimeout: DefaultRequestTimeout,
		maxBytes:       DefaultMaxManifestBytes,
		logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		attempts:       DefaultRetryAttempts,
		maxWait:        DefaultRetryMaxWait,
		hostJobs:       DefaultJobsPerRegistry,
		breakFailures:  DefaultBreakerFailures,
		breakCooldown:  DefaultBreakerCooldown,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if !o.noCache && o.cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("the cache directory: %w", err)
		}
		o.cacheDir = filepath.Join(dir, "archway")
	}
	if o.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = min(o.jobs, o.hostJobs)
		o.transport = t
	}
	return o, nil
}
