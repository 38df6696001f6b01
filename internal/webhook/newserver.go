package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
)

// Config is everything the webhook server is built from: what
// `archway webhook` reads from its flags, and what the benchmark and the
// tests set. Zero fields take the defaults.
type Config struct {
	// Addr is the TLS listen address; default ":8443".
	Addr string
	// MetricsAddr, when set, also serves /metrics, /healthz and /readyz
	// over plain HTTP there.
	MetricsAddr string
	// CertFile and KeyFile are the PEM key pair, reloaded when they change.
	// Required.
	CertFile, KeyFile string

	// Mode is enforce (default) or audit.
	Mode Mode
	// Placement configures placement.Place.
	Placement placement.Options
	// Budget bounds the lookups of one admission; default DefaultBudget.
	Budget time.Duration

	// CacheSize is the number of lookups kept in memory; default 4096.
	CacheSize int
	// CacheTTL is how long a lookup by tag is reused; default 5m.
	CacheTTL time.Duration

	// Kube lists the running pods for the warm start and, with
	// PullSecrets, reads their pull secrets; nil does neither.
	Kube kubernetes.Interface
	// PullSecrets authenticates each pod's lookups with its pull secrets
	// (and its service account's) read through Kube, ahead of Keychain,
	// like the kubelet.
	PullSecrets bool
	// Keychain is tried after a pod's pull secrets; nil means
	// authn.DefaultKeychain (docker config and credential helpers).
	Keychain authn.Keychain
	// Registry are further registry client options (WithInsecure, a
	// transport trusting a test registry's CA); they win over the
	// server's own.
	Registry []registry.Option

	// WarmStart bounds the warm start: /readyz turns ready once the images
	// of the running pods are looked up, or after this long; default 20s,
	// negative skips it. Without Kube there is nothing to warm.
	WarmStart time.Duration

	// Logger; nil discards.
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown; default 10s.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds reading a request, body included, so a client
	// sending it a byte a second cannot hold a connection; default
	// DefaultReadTimeout, below the API server's webhook timeout.
	ReadTimeout time.Duration
	// MaxConnections caps the connections served at once; more wait to
	// be accepted. Default DefaultMaxConnections.
	MaxConnections int
}

// DefaultWarmStart is the default bound on the warm start.
const DefaultWarmStart = 20 * time.Second

// NewServer builds the webhook server production runs and starts it: the
// registry client (no disk cache, retries, per-request timeouts, one
// kept-alive transport) authenticated per pod with its pull secrets, the
// in-memory lookup cache, the placing handler, metrics, TLS with
// certificate reload, health and readiness. It serves until ctx is
// cancelled; Wait returns then.
func NewServer(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("webhook server: no TLS certificate or key file")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Keychain == nil {
		cfg.Keychain = authn.DefaultKeychain
	}
	metrics := NewMetrics()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	newLookup := func(kc authn.Keychain) (lookup.Func, error) {
		opts := append([]registry.Option{
			registry.WithoutCache(), // the MemCache below is the webhook's cache
			registry.WithKeychain(kc),
			registry.WithTransport(transport),
			registry.WithRequestTimeout(10 * time.Second),
			registry.WithRetry(2, time.Second),
			registry.WithLogger(logger),
		}, cfg.Registry...)
		c, err := registry.New(opts...)
		if err != nil {
			return nil, err
		}
		metrics.registries.watch(c)
		return c.Lookup, nil
	}
	if _, err := newLookup(cfg.Keychain); err != nil { // fail at start, not per pod
		return nil, fmt.Errorf("webhook server: registry client: %w", err)
	}
	secrets := cfg.Kube
	if !cfg.PullSecrets {
		secrets = nil
	}
	lookups, err := registry.NewPullSecretLookups(registry.PullSecretLookupsOptions{
		Client: secrets, Fallback: cfg.Keychain, NewLookup: newLookup, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook server: %w", err)
	}
	cache := registry.NewMemCache(registry.MemCacheOptions{Size: cfg.CacheSize, TagTTL: cfg.CacheTTL, Observer: metrics})
	placer, err := NewPodPlacer(PodPlacerOptions{
		Cache:     cache,
		Lookups:   lookups,
		Placement: cfg.Placement,
		Mode:      cfg.Mode,
		Budget:    cfg.Budget,
		Metrics:   metrics,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook server: %w", err)
	}
	s := &Server{metrics: metrics}
	if err := s.serve(ctx, serveOptions{
		Addr:            cfg.Addr,
		MetricsAddr:     cfg.MetricsAddr,
		CertFile:        cfg.CertFile,
		KeyFile:         cfg.KeyFile,
		Webhook:         &Webhook{Handler: placer, Recover: placer.Recover, Logger: logger},
		Metrics:         metrics,
		Logger:          logger,
		ShutdownTimeout: cfg.ShutdownTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		MaxConnections:  cfg.MaxConnections,
	}); err != nil {
		return nil, err
	}
	warm := cfg.WarmStart
	if warm == 0 {
		warm = DefaultWarmStart
	}
	if cfg.Kube == nil || warm < 0 {
		s.warm.Store(true)
		return s, nil
	}
	go func() {
		defer s.warm.Store(true)
		wctx, cancel := context.WithTimeout(ctx, warm)
		defer cancel()
		start := time.Now()
		n, err := warmUp(wctx, cfg.Kube, cache, lookups)
		if err != nil {
			logger.Warn("warm start incomplete", "images", n, "err", err, "took", time.Since(start))
			return
		}
		logger.Info("warm start done", "images", n, "took", time.Since(start))
	}()
	return s, nil
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }
