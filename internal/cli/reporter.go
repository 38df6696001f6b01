package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/archwaydev/archway/internal/reporter"
	"github.com/archwaydev/archway/internal/source/cluster"
)

// reporterOptions are archway reporter's flags.
type reporterOptions struct {
	rules                            reportFlags
	metricsAddr                      string
	kubeconfig, context, namespace   string
	leaseNamespace, leaseName, ident string
	interval, debounce               time.Duration
	reg                              registryFlags
}

func newReporterCmd() *cobra.Command {
	o := reporterOptions{}
	cmd := &cobra.Command{
		Use:   "reporter",
		Short: "Run in the cluster: keep arm64 PolicyReports and readiness metrics current",
		Long: `reporter is archway report as a service. It watches the workload kinds, Pods
and Nodes, and recomputes every workload's arm64 readiness on each change
(after --debounce) and every --report-interval: it applies the PolicyReports
(or OpenReports Reports) archway report --apply would, and exports metrics on
--metrics-addr at /metrics:

  archway_workloads{namespace,readiness}              workloads, each at its top owner
  archway_workload_cpu_requests{namespace,readiness}  CPU cores their pods request now
  archway_lookups_total{registry,cause}               image lookups, cause ok when they succeeded
  archway_reporter_leader, archway_reporter_runs_total{outcome}, ...

readiness is ready, not_ready or unknown. Run two replicas or more: they
elect a leader through a Lease (--lease-namespace/--lease-name), and only
the leader looks images up, writes and exports readiness; the others take
over when it goes. /healthz answers ok while the process runs.

The RBAC it needs: get/list/watch on deployments, statefulsets, daemonsets,
replicasets, cronjobs, jobs, replicationcontrollers, pods and nodes;
list/create/patch/delete on policyreports.wgpolicyk8s.io (or
reports.openreports.io); get/create/update on the Lease.`,
		Example: `  # In the cluster, as the chart runs it
  archway reporter --report-interval 1h --arm-taint arm=true:NoSchedule

  # From a workstation against the current context, one namespace
  archway reporter -n shop --lease-namespace shop --metrics-addr 127.0.0.1:9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReporter(cmd, o) },
	}
	f := cmd.Flags()
	addReportFlags(f, &o.rules)
	f.StringVar(&o.metricsAddr, "metrics-addr", ":9090", "`ADDRESS` to serve /metrics and /healthz on")
	f.DurationVar(&o.interval, "report-interval", reporter.DefaultInterval, "recompute everything this often, changes or not")
	f.DurationVar(&o.debounce, "debounce", reporter.DefaultDebounce, "wait this long after a change for more before recomputing")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account)")
	f.StringVar(&o.context, "context", "", "kubeconfig `CONTEXT` (default: the current context)")
	f.StringVarP(&o.namespace, "namespace", "n", "", "watch one `NAMESPACE` (default: all)")
	f.StringVar(&o.leaseNamespace, "lease-namespace", cmp.Or(os.Getenv("POD_NAMESPACE"), "archway-system"), "`NAMESPACE` of the leader-election Lease (default: $POD_NAMESPACE)")
	f.StringVar(&o.leaseName, "lease-name", "archway-reporter", "`NAME` of the leader-election Lease")
	f.StringVar(&o.ident, "identity", "", "this replica's `NAME` in the Lease (default: $POD_NAME, else the host name)")
	addRegistryFlags(f, &o.reg, "")
	return cmd
}

// runReporter connects, serves the metrics and runs the loop until the
// signal context ends.
func runReporter(cmd *cobra.Command, o reporterOptions) error {
	opts, err := o.validate()
	if err != nil {
		return usageError(err)
	}
	logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	client, err := o.reg.client("", cmd.InOrStdin())
	if err != nil {
		return err
	}
	conn, err := cluster.Connect(cluster.Config{Kubeconfig: o.kubeconfig, Context: o.context, Namespace: o.namespace, AllNamespaces: o.namespace == ""})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("reporter: %w", err))
	}
	dyn, err := dynamic.NewForConfig(conn.REST)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("reporter: %w", err))
	}
	opts.Client, opts.Dynamic, opts.Lookuper, opts.Logger = conn.Client, dyn, client, logger
	opts.Metrics = reporter.NewMetrics()
	r, err := reporter.New(opts)
	if err != nil {
		return withCode(ExitError, err)
	}
	ln, err := net.Listen("tcp", o.metricsAddr)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("reporter: --metrics-addr: %w", err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", opts.Metrics.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()                         // ends with Shutdown below
	defer func() { _ = srv.Shutdown(context.Background()) }() // the process is ending: nothing to do on error
	logger.Info("reporter: serving metrics", "addr", ln.Addr().String(), "identity", opts.Identity)
	if err := r.Run(cmd.Context()); err != nil && !errors.Is(err, context.Canceled) {
		return withCode(ExitError, err)
	}
	return nil
}

func (o reporterOptions) validate() (reporter.Options, error) {
	var opts reporter.Options
	target, reports, err := o.rules.parse()
	if err != nil {
		return opts, err
	}
	if o.interval < time.Second || o.debounce <= 0 {
		return opts, fmt.Errorf("--report-interval %s, --debounce %s: want an interval of at least 1s and a positive debounce", o.interval, o.debounce)
	}
	if err := o.reg.validate(); err != nil {
		return opts, err
	}
	ident := cmp.Or(o.ident, os.Getenv("POD_NAME"))
	if ident == "" {
		if ident, err = os.Hostname(); err != nil {
			return opts, fmt.Errorf("--identity: none given and no host name: %w", err)
		}
	}
	return reporter.Options{
		Namespace: o.namespace, Target: target, Jobs: o.reg.jobs, Reports: reports,
		Interval: o.interval, Debounce: o.debounce,
		Identity: ident, LeaseNamespace: o.leaseNamespace, LeaseName: o.leaseName,
	}, nil
}
