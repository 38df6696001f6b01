package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/policyreport"
)

// reportOptions are archway report's flags.
type reportOptions struct {
	rules      reportFlags
	output     string
	apply      bool
	maxResults int
	cluster    kubeFlags
	reg        registryFlags
}

// reportFlags say what the reports judge and how they are written
// (report, reporter).
type reportFlags struct {
	platform, format string
	place            placementFlags
}

func addReportFlags(f *pflag.FlagSet, r *reportFlags) {
	f.StringVar(&r.platform, "platform", "linux/arm64", "target `PLATFORM`, os/arch[/variant]")
	f.StringVar(&r.format, "format", string(policyreport.PolicyReport), "report `API`: policyreport (wgpolicyk8s.io/v1alpha2) or openreports (openreports.io/v1alpha1)")
	f.StringVar(&r.place.clusterArchs, "cluster-archs", "amd64,arm64", "architectures of the cluster's nodes, comma-separated")
	f.StringVar(&r.place.armTaint, "arm-taint", "", "taint on the arm64 nodes, `KEY=VALUE:EFFECT`: adds the toleration-present rule")
}

// parse validates the flags: the one target platform and the report options.
func (r reportFlags) parse() (platform.Platform, policyreport.Options, error) {
	ps, err := parseTargets(r.platform)
	if err != nil {
		return platform.Platform{}, policyreport.Options{}, err
	}
	if len(ps) != 1 {
		return platform.Platform{}, policyreport.Options{}, fmt.Errorf("--platform %q: reports judge one platform at a time", r.platform)
	}
	f, err := policyreport.ParseFormat(r.format)
	if err != nil {
		return platform.Platform{}, policyreport.Options{}, fmt.Errorf("--format: %w", err)
	}
	pl, err := r.place.options()
	if err != nil {
		return platform.Platform{}, policyreport.Options{}, err
	}
	return ps[0], policyreport.Options{Format: f, Placement: pl}, nil
}

func newReportCmd() *cobra.Command {
	o := reportOptions{}
	cmd := &cobra.Command{
		Use:   "report --cluster [-A | -n NAMESPACE] (--apply | -o yaml)",
		Short: "Publish arm64 readiness as PolicyReports, one per namespace",
		Long: `report reads a cluster's workloads, each at its top owner (Deployment,
StatefulSet, DaemonSet, CronJob, Job, ReplicaSet or Pod without one), with the
evidence of their running pods, looks up every image once, and writes one
PolicyReport (wgpolicyk8s.io/v1alpha2; --format openreports: an OpenReports
Report, openreports.io/v1alpha1) per namespace. Policy Reporter and other
tools that read policy reports show them with no more setup.

Each workload gets one result per rule of policy arm64-readiness (source
archway):
  images-support-arm64  pass: every image has linux/arm64 (or its pods run on
                        arm64 now); fail: one lacks it (properties name the
                        blocking images and their platforms) or a pod failed
                        with exec format error on arm64; warn: ready but
                        pinned away from arm64; error: an image could not be
                        looked up
  placement-present     the kubernetes.io/arch constraint the images need is
                        there (pass) or missing or conflicting (fail)
  toleration-present    with --arm-taint: a workload that runs on arm64
                        tolerates the taint (pass) or not (fail)

A namespace with many workloads gets several reports (archway-arm64-readiness,
-2, -3 ...), each under --max-results results and 1 MiB.

-o yaml (or json) prints the reports. --apply server-side-applies them (field
manager archway, label app.kubernetes.io/managed-by=archway) and deletes the
reports archway wrote before that are no longer needed, in the namespace
read (every namespace with -A). The PolicyReport CRD must be installed
(Kyverno and Policy Reporter ship it).

Exit status: 0 written or printed; 3 usage error; 4 the cluster could not be
read whole or the reports not applied (nothing is applied then).`,
		Example: `  # Publish reports for every namespace of the current context
  archway report --cluster -A --apply

  # Print one namespace's report, with the arm nodes' taint checked
  archway report --cluster -n shop --arm-taint arm=true:NoSchedule -o yaml

  # OpenReports instead of PolicyReports
  archway report --cluster -A --format openreports --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReport(cmd, o) },
	}
	f := cmd.Flags()
	addReportFlags(f, &o.rules)
	f.StringVarP(&o.output, "output", "o", "", "print the reports as `FORMAT`: yaml or json")
	f.BoolVar(&o.apply, "apply", false, "server-side-apply the reports and remove stale ones")
	f.IntVar(&o.maxResults, "max-results", policyreport.DefaultMaxResults, "most results in one report; more are split into parts")
	addKubeFlags(f, &o.cluster)
	addRegistryFlags(f, &o.reg, "")
	return cmd
}

// runReport validates the flags, builds the reports and prints or applies them.
func runReport(cmd *cobra.Command, o reportOptions) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, err := o.validate()
	if err != nil {
		return usageError(err)
	}
	client, err := o.reg.client("", cmd.InOrStdin())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	res, err := app.Report(ctx, client, opts)
	if ierr := interrupted(ctx); ierr != nil {
		return ierr
	}
	writeNotes(stderr, client.Notes())
	if err != nil {
		return withCode(ExitError, fmt.Errorf("report: %w", err))
	}
	if o.output != "" {
		if err := writeObjects(stdout, o.output, res.Reports); err != nil {
			return withCode(ExitError, fmt.Errorf("report: %w", err))
		}
	}
	if o.apply {
		n := len(res.Applied.Applied)
		fmt.Fprintf(stderr, "archway: report: applied %d %s to cluster %q (%s)", n, plural(n, "report", "reports"), res.Context, summaryLine(res.Assessment))
		if d := res.Applied.Deleted; len(d) > 0 {
			fmt.Fprintf(stderr, "; removed %d stale: %s", len(d), strings.Join(d, ", "))
		}
		fmt.Fprintln(stderr)
	}
	return nil
}

func (o reportOptions) validate() (app.ReportOptions, error) {
	var opts app.ReportOptions
	if !o.cluster.enabled {
		return opts, errors.New("report reads a live cluster: pass --cluster (with -A or -n NAMESPACE)")
	}
	if err := o.cluster.validate(); err != nil {
		return opts, err
	}
	if !o.apply && o.output == "" {
		return opts, errors.New("report: pass --apply to write the reports, or -o yaml to print them")
	}
	if o.output != "" && o.output != "yaml" && o.output != "json" {
		return opts, fmt.Errorf("-o %q: want yaml or json", o.output)
	}
	if o.maxResults < 1 {
		return opts, fmt.Errorf("--max-results %d: want at least 1", o.maxResults)
	}
	target, reports, err := o.rules.parse()
	if err != nil {
		return opts, err
	}
	if err := o.reg.validate(); err != nil {
		return opts, err
	}
	reports.MaxResults = o.maxResults
	return app.ReportOptions{Cluster: *o.cluster.config(), Target: target, Jobs: o.reg.jobs, Apply: o.apply, Reports: reports}, nil
}

// writeObjects prints objs as a YAML stream or a JSON List.
func writeObjects(w io.Writer, format string, objs []*unstructured.Unstructured) error {
	if format == "json" {
		items := make([]any, len(objs))
		for i, u := range objs {
			items[i] = u.Object
		}
		b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for i, u := range objs {
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
