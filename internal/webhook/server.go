package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"
)

// MutatePath is the URL path the admission webhook is served on.
const MutatePath = "/mutate"

// serveOptions configure serve.
type serveOptions struct {
	// Addr is the TLS listen address; default ":8443".
	Addr string
	// MetricsAddr, when set, serves /metrics, /healthz and /readyz over
	// plain HTTP on a second address; they are always served on Addr too.
	MetricsAddr string
	// CertFile and KeyFile are the PEM key pair, reloaded when they change.
	CertFile, KeyFile string
	// Webhook serves MutatePath. Required.
	Webhook http.Handler
	// Metrics is served on /metrics; nil serves none.
	Metrics *Metrics
	// Logger; nil discards.
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown; default 10s.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds reading one request, body included; default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxConnections caps the webhook connections served at once; default
	// DefaultMaxConnections.
	MaxConnections int
}

// Bounds on clients of the webhook port.
const (
	// DefaultReadTimeout bounds reading a request, body included: the API
	// server sends an AdmissionReview at once, and its own timeout for a
	// webhook is at most 30s.
	DefaultReadTimeout = 10 * time.Second
	// DefaultMaxConnections caps the connections served at once; the API
	// servers keep a few each.
	DefaultMaxConnections = 512
)

// Server is a running webhook server.
type Server struct {
	opts    serveOptions
	metrics *Metrics
	ln, mln net.Listener
	serving atomic.Bool // listening and not shutting down
	warm    atomic.Bool // the warm start is over
	done    chan struct{}
	err     error
}

// serve binds the listeners and serves until ctx is cancelled, then shuts
// down gracefully: /readyz turns unready, requests in flight finish (up to
// ShutdownTimeout), and Wait returns. /readyz is also unready until
// s.warm is set.
func (s *Server) serve(ctx context.Context, opts serveOptions) error {
	if opts.Webhook == nil {
		return errors.New("webhook server: no webhook handler")
	}
	if opts.Addr == "" {
		opts.Addr = ":8443"
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	certs, err := NewCertReloader(opts.CertFile, opts.KeyFile, opts.Logger)
	if err != nil {
		return fmt.Errorf("webhook server: %w", err)
	}
	s.opts, s.done = opts, make(chan struct{})
	var lc net.ListenConfig
	if s.ln, err = lc.Listen(ctx, "tcp", opts.Addr); err != nil {
		return fmt.Errorf("webhook server: %w", err)
	}
	s.ln = netutil.LimitListener(s.ln, opts.MaxConnections)
	if opts.MetricsAddr != "" {
		if s.mln, err = lc.Listen(ctx, "tcp", opts.MetricsAddr); err != nil {
			return errors.Join(fmt.Errorf("webhook server: metrics: %w", err), s.ln.Close())
		}
	}

	mux := s.probes()
	mux.Handle("POST "+MutatePath, opts.Webhook)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       opts.ReadTimeout,
		IdleTimeout:       90 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate},
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	errs := make(chan error, 2)
	go func() { errs <- srv.ServeTLS(s.ln, "", "") }()
	if s.mln != nil {
		msrv := &http.Server{Handler: s.probes(), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, msrv)
		go func() { errs <- msrv.Serve(s.mln) }()
	}
	s.serving.Store(true)
	opts.Logger.Info("webhook serving", "addr", s.Addr(), "metrics", s.MetricsAddr())

	go func() {
		defer close(s.done)
		var serveErr error
		select {
		case <-ctx.Done():
		case serveErr = <-errs:
		}
		s.serving.Store(false)
		opts.Logger.Info("webhook shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
		defer cancel()
		for _, hs := range servers {
			if err := hs.Shutdown(sctx); err != nil {
				serveErr = errors.Join(serveErr, fmt.Errorf("webhook server: shutdown: %w", err))
			}
		}
		if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			s.err = serveErr
		}
	}()
	return nil
}

// probes returns a mux with /healthz, /readyz and /metrics.
func (s *Server) probes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !s.serving.Load():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		case !s.warm.Load():
			http.Error(w, "warming the cache", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.opts.Metrics.Handler())
	}
	return mux
}

// Addr returns the TLS listener's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// MetricsAddr returns the plain-HTTP metrics listener's address, or "".
func (s *Server) MetricsAddr() string {
	if s.mln == nil {
		return ""
	}
	return s.mln.Addr().String()
}

// Wait blocks until the server has shut down and returns why it stopped
// serving (nil after a graceful shutdown on ctx cancellation).
func (s *Server) Wait() error {
	<-s.done
	return s.err
}
