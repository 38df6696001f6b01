package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/rewrite"
)

// placeOptions are archway place's flags.
type placeOptions struct {
	inPlace        bool
	outDir         string
	dryRun         bool
	check          bool
	postRenderer   bool
	kustomizePatch bool
	platform       string
	placement      placementFlags
	render         renderFlags
	reg            registryFlags
}

func newPlaceCmd() *cobra.Command {
	o := placeOptions{}
	cmd := &cobra.Command{
		Use:   "place [flags] FILE|DIR...",
		Short: "Write the kubernetes.io/arch placement that keeps every pod on a node that can run it",
		Long: `place looks up every image of every workload in the given manifests and writes
the placement each pod needs:

  - when every container (init and ephemeral included) runs on every cluster
    architecture (--cluster-archs), nothing is required; --prefer adds
    preferred weights, e.g. arm64=80;
  - when only some do, a required node affinity kubernetes.io/arch In [...] is
    AND-ed into every existing node-selector term (never appended as a new
    term, which would loosen your constraints);
  - when arm64 runs every container and --arm-taint is given, the toleration
    for the taint on your arm64 nodes is added;
  - an existing kubernetes.io/arch constraint is respected: if the images
    cannot honour it, that is reported and nothing is changed;
  - a workload with an image whose lookup failed is left untouched.

Files are Kubernetes manifests (YAML or JSON, many documents, List objects,
Argo Rollouts, Knative Services), ECS task definitions (runtimePlatform is set
for --platform when every image supports it) and Compose files ('platform:'
is set for services whose image has a single platform). Comments, key order,
quoting and anchors are kept; only the changed fields are written.

Without --in-place, --output-dir, --check or --post-renderer, place shows what
it would change as a unified diff (--dry-run) that 'patch -p1' and 'git apply'
apply. --in-place leaves a file untouched (and says so) when it is read-only
or changed since archway read it.

--post-renderer places what Helm rendered: the Kubernetes version and API
versions the chart saw are Helm's (helm template --kube-version and
--api-versions; helm install asks the cluster). 'archway scan' renders a chart
itself with the same two flags, by default for the Kubernetes version archway
is built against, so that charts declaring kubeVersion render.

Objects that are not workloads but name images (custom resources such as a
Prometheus Operator Prometheus, whose spec.image the operator runs) are left
alone, with a note: their placement is the operator's.

Exit status: 0 done; 1 with --check when changes would be made or a workload
cannot be placed (no cluster architecture runs every container); 2 with
--check when nothing would change but some workload was skipped (unknown image);
3 usage error; 4 a file could not be read, parsed or written.`,
		Example: `  # What would change?
  archway place --dry-run k8s/

  # Write it, with the toleration for the taint on the arm64 node group
  archway place --in-place --arm-taint arm=true:NoSchedule k8s/

  # In CI: fail when a manifest lacks its placement
  archway place --check --arm-taint=arm=true:NoSchedule k8s/

  # As a Helm post-renderer
  helm install shop ./chart --post-renderer archway \
    --post-renderer-args place --post-renderer-args --post-renderer

  # Post-render for a given cluster version, as scan renders it
  helm template shop ./chart --kube-version 1.31.0 --api-versions monitoring.coreos.com/v1 \
    --post-renderer archway --post-renderer-args place --post-renderer-args --post-renderer

  # Add a patch to a kustomization instead of editing its bases
  archway place --kustomize-patch overlays/prod

  # Placed copies in another directory, the originals untouched
  archway place --output-dir placed/ k8s/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlace(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.inPlace, "in-place", false, "rewrite the files in place (atomically)")
	f.StringVar(&o.outDir, "output-dir", "", "write the placed files under `DIR`, keeping their relative paths")
	f.BoolVar(&o.dryRun, "dry-run", false, "print a unified diff of what would change (the default)")
	f.BoolVar(&o.check, "check", false, "change nothing; exit 1 when changes would be made")
	f.BoolVar(&o.postRenderer, "post-renderer", false, "read a manifest stream on stdin and write it placed to stdout (Helm --post-renderer)")
	f.BoolVar(&o.kustomizePatch, "kustomize-patch", false, "for each kustomization DIR, write "+rewrite.PatchFile+" and add it to its patches instead of editing bases")
	addPlacementFlags(f, &o.placement)
	addRenderFlags(f, &o.render)
	f.StringVar(&o.platform, "platform", "linux/arm64", "target platform of ECS task definitions")
	addRegistryFlags(f, &o.reg, "the first image")
	return cmd
}

// mode checks that at most one output mode is given and returns it.
func (o placeOptions) mode() (app.PlaceMode, error) {
	var set []string
	m := app.PlaceDryRun
	for _, c := range []struct {
		on   bool
		name string
		mode app.PlaceMode
	}{
		{o.dryRun, "--dry-run", app.PlaceDryRun},
		{o.check, "--check", app.PlaceCheck},
		{o.inPlace, "--in-place", app.PlaceInPlace},
		{o.outDir != "", "--output-dir", app.PlaceOutDir},
		{o.postRenderer, "--post-renderer", app.PlacePostRender},
	} {
		if c.on {
			set = append(set, c.name)
			m = c.mode
		}
	}
	if len(set) > 1 {
		return 0, fmt.Errorf("%s cannot be combined", strings.Join(set, " and "))
	}
	if o.kustomizePatch && (m == app.PlacePostRender || m == app.PlaceOutDir) {
		return 0, fmt.Errorf("--kustomize-patch works with --in-place, --dry-run or --check")
	}
	return m, nil
}

// rewriteOptions turns the placement flags into rewrite options.
func (o placeOptions) rewriteOptions() (rewrite.Options, error) {
	var opts rewrite.Options
	var err error
	if opts.Placement, err = o.placement.options(); err != nil {
		return opts, err
	}
	if opts.Platform, err = platform.Parse(o.platform); err != nil {
		return opts, fmt.Errorf("--platform: %w", err)
	}
	if a := opts.Platform.Architecture; opts.Platform.OS != "linux" || (a != "arm64" && a != "amd64") {
		return opts, fmt.Errorf("--platform %s: ECS task definitions run linux/arm64 or linux/amd64", opts.Platform)
	}
	return opts, nil
}

func runPlace(cmd *cobra.Command, args []string, o placeOptions) error {
	mode, err := o.mode()
	if err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	ropts, err := o.rewriteOptions()
	if err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	if err := o.reg.validate(); err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	limits, err := o.render.limits()
	if err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	switch {
	case mode == app.PlacePostRender && len(args) > 0:
		return usageError(errors.New("place: --post-renderer reads stdin; give no files"))
	case mode != app.PlacePostRender && len(args) == 0:
		return usageError(errors.New("place: no files given (see 'archway place --help')"))
	case mode == app.PlacePostRender && o.reg.passwordStdin:
		return usageError(errors.New("place: --post-renderer and --password-stdin both read stdin"))
	}
	for _, a := range args {
		if _, err := os.Stat(a); err != nil {
			return usageError(fmt.Errorf("place: %w", err))
		}
	}
	client, err := o.reg.client("", cmd.InOrStdin())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	opts := app.PlaceOptions{Mode: mode, Rewrite: ropts, OutDir: o.outDir, KustomizePatch: o.kustomizePatch,
		Render: limits, AllowRemote: o.render.allowRemote, Jobs: o.reg.jobs, Out: cmd.OutOrStdout()}
	var res app.PlaceResult
	if mode == app.PlacePostRender {
		res, err = app.PostRender(ctx, client, cmd.InOrStdin(), opts)
	} else {
		res, err = app.Place(ctx, client, args, opts)
	}
	if err := interrupted(ctx); err != nil {
		return err
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("place: %w", err))
	}
	writePlaceNotes(cmd.ErrOrStderr(), res, mode)
	switch {
	case res.Failed > 0:
		return withCode(ExitError, nil)
	case mode == app.PlaceCheck:
		if code := report.Exit(assess.Counts{NotReady: res.Changed + res.Blocked, Unknown: res.Unplaced}, report.FailOnUnknown); code != ExitOK {
			return withCode(code, nil)
		}
	}
	return nil
}

// writePlaceNotes prints what was done to each target, every problem, and
// a summary line on w.
func writePlaceNotes(w io.Writer, res app.PlaceResult, mode app.PlaceMode) {
	defer func() {
		verb := "placed"
		if mode == app.PlaceDryRun || mode == app.PlaceCheck {
			verb = "would place"
		}
		blocked := ""
		if res.Blocked > 0 {
			blocked = fmt.Sprintf("; %d cannot be placed (see !)", res.Blocked)
		}
		fmt.Fprintf(w, "archway place: %s %d workload(s); %d skipped (unknown image)%s; %d failed\n", verb, res.Changed, res.Unplaced, blocked, res.Failed)
	}()
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "archway place: %s\n", s)
	}
	for _, f := range res.Files {
		if f.Err != nil {
			fmt.Fprintf(w, "archway place: %v (left untouched)\n", f.Err)
		}
		for _, c := range f.Changes {
			if c.Err != nil {
				fmt.Fprintf(w, "archway place: %v (left untouched)\n", c.Err)
				continue
			}
			where := fmt.Sprintf("%s:%d %s", f.Path, c.Line, c.ID())
			for _, s := range c.Summary {
				fmt.Fprintf(w, "%s: + %s\n", where, s)
			}
			for _, s := range c.Findings {
				fmt.Fprintf(w, "%s: ! %s\n", where, s)
			}
			if c.Skipped != "" {
				fmt.Fprintf(w, "%s: skipped: %s\n", where, c.Skipped)
			}
		}
		for _, n := range f.Notes {
			fmt.Fprintf(w, "%s: note: %s\n", f.Path, n)
		}
	}
}
