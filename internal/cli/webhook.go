package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/source/cluster"
	"github.com/archwaydev/archway/internal/webhook"
)

// webhookOptions are archway webhook's flags.
type webhookOptions struct {
	listen, metricsListen string
	certFile, keyFile     string
	mode                  string
	placement             placementFlags
	budget                time.Duration
	cacheSize             int
	cacheTTL              time.Duration
	insecure              []string
	mirrors               []string
	kubeconfig            string
	pullSecrets           bool
	warmStart             time.Duration
	logLevel              string
}

func newWebhookCmd() *cobra.Command {
	o := webhookOptions{}
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve the admission webhook that places pods on an architecture their images support",
		Long: `webhook serves a Kubernetes mutating admission webhook (AdmissionReview v1, TLS)
for Pod CREATE. It looks up every image of the pod in its registry (cached in
memory, one request per image however many pods ask, authenticated with the
pod's pull secrets like the kubelet) and patches in the kubernetes.io/arch
affinity and the arm taint's toleration that keep the pod on a node that can
run it.

The patch touches only the pod's affinity, tolerations, nodeSelector and
archway's annotations. When a later webhook (a sidecar injector) changes the
pod, the API server calls archway again (reinvocationPolicy IfNeeded): it takes
back what it added and places the pod as it is now, injected containers
included. Lookups made with a pod's pull secrets are shared only with pods
holding the same credentials.

It fails open: when the lookups take longer than --budget, a registry fails or
an image is unknown, the pod is admitted unchanged and annotated
archway.dev/placement: skipped (<reason>). In --mode audit it changes nothing
and says in an annotation and in warnings what it would have done.

At start-up it looks up the images of the cluster's pods (for up to
--warm-start) before /readyz turns ready, so the first admissions hit the cache.

Opt out a namespace with the label archway.dev/placement=disabled, a pod with
the annotation archway.dev/placement: disabled.

The TLS files are reloaded when they change. /healthz, /readyz and /metrics
are served on --listen, and on --metrics-listen (plain HTTP) when given.

Install it with 'archway webhook manifests --generate-certs | kubectl apply -f -'
or the Helm chart deploy/charts/archway.`,
		Example: `  archway webhook --tls-cert-file tls.crt --tls-key-file tls.key --arm-taint arm=true:NoSchedule
  archway webhook --mode audit --tls-cert-file tls.crt --tls-key-file tls.key --metrics-listen :8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhook(cmd.Context(), cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", ":8443", "TLS `ADDRESS` to serve the webhook on")
	f.StringVar(&o.metricsListen, "metrics-listen", "", "plain-HTTP `ADDRESS` for /metrics, /healthz, /readyz (default: only on --listen)")
	f.StringVar(&o.certFile, "tls-cert-file", "", "PEM serving certificate `FILE` (reloaded when it changes)")
	f.StringVar(&o.keyFile, "tls-key-file", "", "PEM private key `FILE` (reloaded when it changes)")
	f.StringVar(&o.mode, "mode", string(webhook.ModeEnforce), "enforce (patch pods) or audit (annotate and warn only)")
	addPlacementFlags(f, &o.placement)
	f.DurationVar(&o.budget, "budget", webhook.DefaultBudget, "time one admission may spend on lookups (keep it below the webhook timeout)")
	f.IntVar(&o.cacheSize, "cache-size", 4096, "image lookups kept in memory")
	f.DurationVar(&o.cacheTTL, "cache-ttl", 5*time.Minute, "how long a lookup by tag is reused (by digest: until evicted)")
	f.StringArrayVar(&o.insecure, "insecure-registry", nil, "use plain HTTP for the registry at `HOST[:PORT]`; repeatable")
	f.StringArrayVar(&o.mirrors, "registry-mirror", nil, "`ORIGIN=MIRROR`: ask MIRROR first for ORIGIN's images, verified by digest (docker.io names Docker Hub); repeatable")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)")
	f.BoolVar(&o.pullSecrets, "pull-secrets", true, "read pods' imagePullSecrets and their service account's, like the kubelet")
	f.DurationVar(&o.warmStart, "warm-start", webhook.DefaultWarmStart, "at start-up, look up the cluster's pods' images for up to this long before /readyz turns ready (negative: skip)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.AddCommand(newWebhookManifestsCmd())
	return cmd
}

func runWebhook(ctx context.Context, cmd *cobra.Command, o webhookOptions) error {
	webhook.TuneGC()
	cfg, level, err := o.config()
	if err != nil {
		return usageError(err)
	}
	logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	cfg.Logger = logger
	if o.pullSecrets || o.warmStart >= 0 {
		conn, err := cluster.Connect(cluster.Config{Kubeconfig: o.kubeconfig, AllNamespaces: true})
		if err != nil {
			logger.Warn("no Kubernetes client: pull secrets not read, no warm start", "err", err)
		} else {
			cfg.Kube = conn.Client
		}
	}
	srv, err := webhook.NewServer(ctx, cfg)
	if err != nil {
		return withCode(ExitError, err)
	}
	if err := srv.Wait(); err != nil {
		return withCode(ExitError, err)
	}
	return nil
}

// config checks the flags and turns them into the server's configuration.
func (o webhookOptions) config() (webhook.Config, slog.Level, error) {
	var level slog.Level
	if o.certFile == "" || o.keyFile == "" {
		return webhook.Config{}, level, errors.New("--tls-cert-file and --tls-key-file are required (the API server calls webhooks over TLS)")
	}
	mode, err := webhook.ParseMode(o.mode)
	if err != nil {
		return webhook.Config{}, level, fmt.Errorf("--mode: %w", err)
	}
	switch {
	case o.budget <= 0 || o.budget > 30*time.Second:
		return webhook.Config{}, level, fmt.Errorf("--budget must be between 0 and 30s (the longest webhook timeout), got %s", o.budget)
	case o.cacheSize < 1:
		return webhook.Config{}, level, fmt.Errorf("--cache-size must be at least 1, got %d", o.cacheSize)
	case o.cacheTTL <= 0:
		return webhook.Config{}, level, fmt.Errorf("--cache-ttl must be positive, got %s", o.cacheTTL)
	}
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return webhook.Config{}, level, fmt.Errorf("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	popts, err := o.placement.options()
	if err != nil {
		return webhook.Config{}, level, err
	}
	cfg := webhook.Config{
		Addr: o.listen, MetricsAddr: o.metricsListen, CertFile: o.certFile, KeyFile: o.keyFile,
		Mode: mode, Placement: popts, Budget: o.budget,
		CacheSize: o.cacheSize, CacheTTL: o.cacheTTL,
		PullSecrets: o.pullSecrets, WarmStart: o.warmStart,
	}
	if len(o.insecure) > 0 {
		cfg.Registry = []registry.Option{registry.WithInsecure(o.insecure...)}
	}
	for _, m := range o.mirrors {
		origin, mirror, ok := strings.Cut(m, "=")
		if !ok || origin == "" || mirror == "" {
			return webhook.Config{}, level, fmt.Errorf("--registry-mirror %q: want ORIGIN=MIRROR, e.g. docker.io=mirror.gcr.io", m)
		}
		cfg.Registry = append(cfg.Registry, registry.WithMirror(origin, mirror))
	}
	if _, err := registry.New(append([]registry.Option{registry.WithoutCache()}, cfg.Registry...)...); err != nil {
		return webhook.Config{}, level, err
	}
	return cfg, level, nil
}
