package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/webhook"
)

// webhookOptions are archway webhook's flags.
type webhookOptions struct {
	listen, metricsListen string
	certFile, keyFile     string
	mode                  string
	clusterArchs          []string
	armTaint, prefer      string
	style                 string
	budget                time.Duration
	cacheSize             int
	cacheTTL              time.Duration
	insecure              []string
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

It fails open: when the lookups take longer than --budget, a registry fails or
an image is unknown, the pod is admitted unchanged and annotated
archway.dev/placement: skipped (<reason>). In --mode audit it changes nothing
and says in an annotation and in warnings what it would have done.

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
	f.StringSliceVar(&o.clusterArchs, "cluster-archs", placement.DefaultClusterArchs, "architectures the cluster's nodes have")
	f.StringVar(&o.armTaint, "arm-taint", "", "the `KEY=VALUE:EFFECT` taint on arm64 nodes; pods that can run there get a toleration")
	f.StringVar(&o.prefer, "prefer", "", "preferred-affinity weights when every architecture works, e.g. arm64=80")
	f.StringVar(&o.style, "style", "affinity", "affinity or node-selector (nodeSelector when one architecture is required)")
	f.DurationVar(&o.budget, "budget", webhook.DefaultBudget, "time one admission may spend on lookups (keep it below the webhook timeout)")
	f.IntVar(&o.cacheSize, "cache-size", 4096, "image lookups kept in memory")
	f.DurationVar(&o.cacheTTL, "cache-ttl", 5*time.Minute, "how long a lookup by tag is reused (by digest: until evicted)")
	f.StringArrayVar(&o.insecure, "insecure-registry", nil, "use plain HTTP for the registry at `HOST[:PORT]`; repeatable")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` to read pull secrets with (default: in-cluster config)")
	f.BoolVar(&o.pullSecrets, "pull-secrets", true, "read pods' imagePullSecrets and their service account's, like the kubelet")
	f.DurationVar(&o.warmStart, "warm-start", webhook.DefaultWarmStart, "at start-up, look up the running pods' images for up to this long before /readyz turns ready (negative: skip)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.AddCommand(newWebhookManifestsCmd())
	return cmd
}

func runWebhook(ctx context.Context, cmd *cobra.Command, o webhookOptions) error {
	webhook.TuneGC()
	popts, mode, level, err := o.validate()
	if err != nil {
		return usageError(err)
	}
	logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	cfg := webhook.Config{
		Addr:        o.listen,
		MetricsAddr: o.metricsListen,
		CertFile:    o.certFile,
		KeyFile:     o.keyFile,
		Mode:        mode,
		Placement:   popts,
		Budget:      o.budget,
		CacheSize:   o.cacheSize,
		CacheTTL:    o.cacheTTL,
		PullSecrets: o.pullSecrets,
		WarmStart:   o.warmStart,
		Logger:      logger,
	}
	if len(o.insecure) > 0 {
		cfg.Registry = []registry.Option{registry.WithInsecure(o.insecure...)}
	}
	if o.pullSecrets || o.warmStart >= 0 {
		if cfg.Kube, err = o.kubeClient(); err != nil {
			logger.Warn("no Kubernetes client: pull secrets not read, no warm start", "err", err)
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

// validate checks the flags and turns them into placement options.
func (o webhookOptions) validate() (placement.Options, webhook.Mode, slog.Level, error) {
	var popts placement.Options
	var level slog.Level
	if o.certFile == "" || o.keyFile == "" {
		return popts, "", level, errors.New("--tls-cert-file and --tls-key-file are required (the API server calls webhooks over TLS)")
	}
	mode, err := webhook.ParseMode(o.mode)
	if err != nil {
		return popts, "", level, fmt.Errorf("--mode: %w", err)
	}
	if o.budget <= 0 || o.budget > 30*time.Second {
		return popts, "", level, fmt.Errorf("--budget must be between 0 and 30s (the longest webhook timeout), got %s", o.budget)
	}
	if o.cacheSize < 1 {
		return popts, "", level, fmt.Errorf("--cache-size must be at least 1, got %d", o.cacheSize)
	}
	if o.cacheTTL <= 0 {
		return popts, "", level, fmt.Errorf("--cache-ttl must be positive, got %s", o.cacheTTL)
	}
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return popts, "", level, fmt.Errorf("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	if popts, err = placementOptions(o.clusterArchs, o.armTaint, o.prefer, o.style); err != nil {
		return popts, "", level, err
	}
	return popts, mode, level, nil
}

// placementOptions parses the placement flags.
func placementOptions(clusterArchs []string, armTaint, prefer, style string) (placement.Options, error) {
	var popts placement.Options
	for _, a := range clusterArchs {
		if a = strings.TrimSpace(a); a != "" {
			popts.ClusterArchs = append(popts.ClusterArchs, a)
		}
	}
	if len(popts.ClusterArchs) == 0 {
		return popts, errors.New("--cluster-archs must name at least one architecture")
	}
	var err error
	if armTaint != "" {
		if popts.ArmTaint, err = placement.ParseTaint(armTaint); err != nil {
			return popts, fmt.Errorf("--arm-taint: %w", err)
		}
	}
	if prefer != "" {
		if popts.Prefer, err = placement.ParsePrefer(prefer); err != nil {
			return popts, fmt.Errorf("--prefer: %w", err)
		}
	}
	if popts.Style, err = placement.ParseStyle(style); err != nil {
		return popts, fmt.Errorf("--style: %w", err)
	}
	return popts, nil
}

// kubeClient builds the client that reads pull secrets: --kubeconfig, else
// the in-cluster configuration.
func (o webhookOptions) kubeClient() (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if o.kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
