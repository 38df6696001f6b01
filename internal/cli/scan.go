package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/render"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/rewrite"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/verify"
)

// scanOptions are archway scan's flags.
type scanOptions struct {
	platform   string
	kind       string
	values     []string
	set        []string
	kubeVer    string
	apiVers    []string
	allowEmpty bool
	cluster    kubeFlags
	output     string
	outputFile string
	failOn     string
	quiet      bool
	all        bool
	deep       bool
	advise     bool
	render     renderFlags
	reg        registryFlags
}

func newScanCmd() *cobra.Command {
	o := scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Find every image your workloads use and say which workloads can run on arm64",
		Long: `scan reads workloads from files, directories and live clusters, looks up every
image they use (each distinct image once), and says for each workload whether
it is ready for the target platform: ready, not-ready, or unknown when an
image's lookup failed (never guessed). A workload is ready only when every
container, init, sidecar and ephemeral included, is.

Inputs (each PATH is detected; --kind forces one kind for every PATH):
  kubernetes  YAML/JSON manifests, a file or a directory (recursively)
  helm        a chart directory or .tgz, rendered client-side (-f, --set,
              --kube-version, --api-versions, as helm template)
  kustomize   a directory with a kustomization.yaml, built as kustomize
              build does (remote resources only with --allow-remote)
  ecs         ECS task definitions (JSON)
  compose     compose.yaml / docker-compose.yml (and the Dockerfiles it builds)
  dockerfile  a Dockerfile's base images
  directory   any other directory: walked, charts and kustomizations under it
              read whole (with their own values), other files detected one
              by one; files of no known kind and dot-directories are skipped
  --cluster   the workloads of a live cluster (kubeconfig as kubectl finds
              it), each at its top owner, plus a census of the nodes

Output (-o): table (default on a terminal), json (default otherwise),
markdown, html, sarif. --output-file writes the report to a file (atomically)
instead of stdout; its extension picks the format when -o is not given.

Each chart render and kustomize build runs in a child process bounded by
--render-timeout and --render-memory: a template that never ends fails its
input, and the rest is still scanned.

Each distinct image is looked up once, and lookups start while the inputs are
still being read. An input that cannot be read is reported on stderr, naming
the file (and line), and the rest is still scanned and reported.

Exit status:
  0  nothing --fail-on fails on
  1  at least one workload is not ready (unless --fail-on never)
  2  none is not ready, but at least one is unknown (--fail-on unknown, the default)
  3  usage error (bad flag, no input, a PATH that does not exist), or no
     workload found in what was read (unless --allow-empty); the message says
     how many inputs were read and what was skipped and why
  4  an input could not be read or the cluster not reached (the report still
     covers everything else), or archway itself failed; wins over 1 and 2`,
		Example: `  # Manifests, a chart and a compose file, against arm64
  archway scan k8s/ charts/api -f charts/api/values-prod.yaml compose.yaml

  # Everything running in the current kubectl context, all namespaces
  archway scan --cluster -A

  # CI: SARIF for code scanning, fail only on workloads known not to be ready
  archway scan --fail-on not-ready -o sarif --output-file archway.sarif deploy/

  # An HTML report to share, with the images to fix first and their advice
  archway scan --advise --output-file report.html deploy/

  # A chart rendered for the cluster's Kubernetes version and its CRDs, as helm template
  archway scan charts/web --kube-version 1.30.0 --api-versions monitoring.coreos.com/v1

  # A pipeline whose path may hold nothing yet
  archway scan --allow-empty generated/

  # Force the kind when detection cannot tell (e.g. JSON that is an ECS task definition)
  archway scan --kind ecs taskdefs/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", "linux/arm64", "target `PLATFORM`, os/arch[/variant]")
	f.StringVar(&o.kind, "kind", "", "read every PATH as this `KIND`: "+kindList()+" (default: detect)")
	f.StringArrayVarP(&o.values, "values", "f", nil, "Helm values `FILE` for charts, merged in order over values.yaml; repeatable")
	f.StringArrayVar(&o.set, "set", nil, "Helm value for charts, `KEY=VALUE[,KEY=VALUE]` as helm --set; repeatable")
	f.StringVar(&o.kubeVer, "kube-version", "", "Kubernetes `VERSION` charts are rendered for (.Capabilities.KubeVersion, checked against a chart's kubeVersion), as helm template --kube-version (default "+helm.DefaultKubeVersion()+", the version archway is built against)")
	f.StringSliceVar(&o.apiVers, "api-versions", nil, "Kubernetes `API` versions charts see in .Capabilities.APIVersions (e.g. monitoring.coreos.com/v1/ServiceMonitor), as helm template --api-versions; repeatable or comma-separated")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "exit 0 when no workload is found (default: exit 3, saying what was read and skipped)")
	addKubeFlags(f, &o.cluster)
	addRenderFlags(f, &o.render)
	f.StringVarP(&o.output, "output", "o", "", "output `FORMAT`: table, json, markdown, html, sarif (default: from --output-file's extension, else table on a terminal, else json)")
	f.StringVar(&o.outputFile, "output-file", "", "write the report to `FILE` (atomically) instead of stdout")
	f.StringVar(&o.failOn, "fail-on", string(report.FailOnUnknown), "`POLICY` for the exit status: unknown (not-ready → 1, unknown → 2), not-ready (only not-ready → 1), never")
	f.BoolVar(&o.deep, "deep", false, "also look inside every image that claims the target: one whose binaries are of another architecture is unsupported (archway verify; layers cached)")
	f.BoolVar(&o.all, "all", false, "list every workload in the table and Markdown reports (default: ready ones are counted, not listed)")
	f.BoolVar(&o.advise, "advise", false, "add the images to fix first, ranked by the workloads each unblocks, with the tag to move to (archway advise) in every format")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar or notes on stderr (errors are still printed)")
	addRegistryFlags(f, &o.reg, "")
	return cmd
}

// scanRequest is a validated scan: what to read and how to report.
type scanRequest struct {
	target platform.Platform
	kind   source.Kind
	format report.Format
	failOn report.FailOn
	render render.Limits
}

func (o scanOptions) validate(args []string, stdout io.Writer) (scanRequest, error) {
	var req scanRequest
	ps, err := parseTargets(o.platform)
	if err != nil {
		return req, err
	}
	if len(ps) != 1 {
		return req, fmt.Errorf("--platform %q: scan judges one platform at a time", o.platform)
	}
	req.target = ps[0]
	if req.failOn, err = report.ParseFailOn(o.failOn); err != nil {
		return req, fmt.Errorf("--fail-on: %w", err)
	}
	if req.format, err = outputFormat(o.output, o.outputFile, stdout, report.Formats...); err != nil {
		return req, err
	}
	if req.kind, err = source.ParseKind(o.kind); err != nil {
		return req, fmt.Errorf("--kind: %w", err)
	}
	if err := o.reg.validate(); err != nil {
		return req, err
	}
	if o.reg.username != "" && o.reg.registryAuth == "" {
		return req, errors.New("--username needs --registry-auth HOST: scan has no single first image to take the registry from")
	}
	if err := o.cluster.validate(); err != nil {
		return req, err
	}
	if req.render, err = o.render.limits(); err != nil {
		return req, err
	}
	for _, set := range o.set {
		if _, err := strvals.Parse(set); err != nil {
			return req, fmt.Errorf("--set %q: %w (want KEY=VALUE[,KEY=VALUE])", set, err)
		}
	}
	if len(args) == 0 && !o.cluster.enabled {
		return req, errors.New("scan: nothing to scan: pass PATH arguments or --cluster (see 'archway scan --help')")
	}
	for _, a := range args {
		if _, err := os.Stat(a); err != nil {
			return req, fmt.Errorf("scan: %w", err)
		}
	}
	if o.kubeVer != "" {
		if _, err := chartutil.ParseKubeVersion(o.kubeVer); err != nil {
			return req, fmt.Errorf("--kube-version %q: %w", o.kubeVer, err)
		}
	}
	return req, nil
}

// runScan reads every input, looks the images up, assesses and reports.
func runScan(cmd *cobra.Command, args []string, o scanOptions) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	req, err := o.validate(args, stdout)
	if err != nil {
		return usageError(err)
	}
	client, err := o.reg.client("", cmd.InOrStdin())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	var deep app.Verifier
	if o.deep {
		vo := verify.Options{Platforms: []platform.Platform{req.target}}
		if dir, err := verify.DefaultCacheDir(); err == nil && !o.reg.noCache {
			vo.CacheDir = dir
		}
		deep = verify.New(client, vo)
	}
	res := app.Scan(ctx, client, app.ScanOptions{
		Deep:  deep,
		Paths: args,
		Source: source.Options{Kind: req.kind, Helm: helm.Options{
			ValueFiles: o.values, Values: o.set, Namespace: o.cluster.namespace,
			KubeVersion: o.kubeVer, APIVersions: o.apiVers,
		}, Render: req.render, AllowRemote: o.render.allowRemote},
		Cluster:  o.cluster.config(),
		Target:   req.target,
		Jobs:     o.reg.jobs,
		Progress: report.NewProgress(stderr, !o.quiet && isTerminal(stderr)),
	})
	if err := interrupted(ctx); err != nil {
		return err
	}
	rep := res.Report
	opts := []report.Option{report.WithAll(o.all)}
	if o.advise {
		advice, _ := app.AdviseReport(ctx, client, rep, app.AdviseOptions{Target: req.target, Jobs: o.reg.jobs})
		opts = append(opts, report.WithAdvice(advice))
	}
	writeNotes(stderr, client.Notes())
	for _, e := range res.Errs {
		fmt.Fprintln(stderr, "archway: scan:", e)
	}
	if !o.quiet {
		for _, n := range res.Notes {
			fmt.Fprintln(stderr, "archway: scan: note:", n)
		}
	}
	if len(rep.Workloads) == 0 && len(res.Errs) == 0 && !o.allowEmpty {
		return usageError(fmt.Errorf("scan: no workload found: %s (--allow-empty to accept an empty scan)", res.Inputs.Summary()))
	}
	if err := writeScanReport(stdout, o.outputFile, req.format, rep, opts...); err != nil {
		return withCode(ExitError, fmt.Errorf("scan: writing the report: %w", err))
	}
	if res.Census != nil {
		w := stdout
		if req.format != report.Table || o.outputFile != "" {
			w = stderr // keep machine-readable stdout parseable
		}
		if w == stdout || !o.quiet {
			report.WriteCensus(w, res.Context, *res.Census)
		}
	}
	if o.outputFile != "" && !o.quiet {
		fmt.Fprintf(stderr, "archway: wrote %s report to %s (%s)\n", req.format, o.outputFile, summaryLine(rep))
	}
	if n := len(res.Errs); n > 0 {
		return withCode(ExitError, fmt.Errorf("scan: %d %s reading the inputs; the report covers everything else", n, plural(n, "problem", "problems")))
	}
	if code := report.ExitCode(rep, req.failOn); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}

// writeScanReport renders rep to file (replaced atomically) or, when file
// is empty, to stdout (a table in colour on a terminal, unless NO_COLOR or
// TERM=dumb).
func writeScanReport(stdout io.Writer, file string, format report.Format, rep assess.Report, extra ...report.Option) error {
	opts := append([]report.Option{report.WithToolVersion(Version())}, extra...)
	if wd, err := os.Getwd(); err == nil {
		opts = append(opts, report.WithBaseDir(wd))
	}
	if file == "" {
		if format == report.Table && colorOK(stdout) {
			opts = append(opts, report.WithColor(true))
		}
		return report.Render(stdout, format, rep, opts...)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, format, rep, opts...); err != nil {
		return err
	}
	return rewrite.WriteFile(file, buf.Bytes())
}

// summaryLine is a one-line count of workload verdicts.
func summaryLine(r assess.Report) string {
	c := r.Summary.Workloads
	return fmt.Sprintf("%d workloads: %d ready, %d not ready, %d unknown", c.Total, c.Ready, c.NotReady, c.Unknown)
}

// kindList names the kinds --kind takes.
func kindList() string {
	ks := source.Kinds()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
