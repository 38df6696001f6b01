package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
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
	clusterArchs   string
	armTaint       string
	prefer         string
	style          string
	platform       string
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

Without --in-place, -o, --check or --post-renderer, place shows what it would
change as a unified diff (--dry-run).

Exit status: 0 done; 1 with --check when changes would be made; 2 with --check
when nothing would change but some workload was skipped (unknown image);
3 usage error; 4 a file could not be read, parsed or written.`,
		Example: `  # What would change?
  archway place --dry-run k8s/

  # Write it, with the toleration for the taint on the arm64 node group
  archway place --in-place --arm-taint k8s/

  # In CI: fail when a manifest lacks its placement
  archway place --check --arm-taint=arm=true:NoSchedule k8s/

  # As a Helm post-renderer
  helm install shop ./chart --post-renderer archway \
    --post-renderer-args place --post-renderer-args --post-renderer

  # Add a patch to a kustomization instead of editing its bases
  archway place --kustomize-patch overlays/prod`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlace(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.inPlace, "in-place", false, "rewrite the files in place (atomically)")
	f.StringVarP(&o.outDir, "output-dir", "o", "", "write the placed files under `DIR`, keeping their relative paths")
	f.BoolVar(&o.dryRun, "dry-run", false, "print a unified diff of what would change (the default)")
	f.BoolVar(&o.check, "check", false, "change nothing; exit 1 when changes would be made")
	f.BoolVar(&o.postRenderer, "post-renderer", false, "read a manifest stream on stdin and write it placed to stdout (Helm --post-renderer)")
	f.BoolVar(&o.kustomizePatch, "kustomize-patch", false, "for each kustomization DIR, write "+rewrite.PatchFile+" and add it to its patches instead of editing bases")
	f.StringVar(&o.clusterArchs, "cluster-archs", "amd64,arm64", "architectures of the cluster's nodes")
	f.StringVar(&o.armTaint, "arm-taint", "", "taint on the arm64 nodes, `key=value:Effect` (bare flag: "+placement.DefaultArmTaint+")")
	f.Lookup("arm-taint").NoOptDefVal = placement.DefaultArmTaint
	f.StringVar(&o.prefer, "prefer", "", "preferred-affinity weights per architecture, e.g. arm64=80")
	f.StringVar(&o.style, "style", "affinity", "how a required architecture is written: affinity or node-selector (node-selector when one architecture)")
	f.StringVar(&o.platform, "platform", "linux/arm64", "target platform of ECS task definitions")
	addRegistryFlags(f, &o.reg, "the first image")
	return cmd
}

// placeMode is what place does with the placed files.
type placeMode int

const (
	modeDryRun placeMode = iota
	modeCheck
	modeInPlace
	modeOutDir
	modePostRenderer
)

// mode checks that at most one output mode is given and returns it.
func (o placeOptions) mode() (placeMode, error) {
	var set []string
	m := modeDryRun
	for _, c := range []struct {
		on   bool
		name string
		mode placeMode
	}{
		{o.dryRun, "--dry-run", modeDryRun},
		{o.check, "--check", modeCheck},
		{o.inPlace, "--in-place", modeInPlace},
		{o.outDir != "", "-o", modeOutDir},
		{o.postRenderer, "--post-renderer", modePostRenderer},
	} {
		if c.on {
			set = append(set, c.name)
			m = c.mode
		}
	}
	if len(set) > 1 {
		return 0, fmt.Errorf("%s cannot be combined", strings.Join(set, " and "))
	}
	if o.kustomizePatch && (m == modePostRenderer || m == modeOutDir) {
		return 0, fmt.Errorf("--kustomize-patch works with --in-place, --dry-run or --check")
	}
	return m, nil
}

// rewriteOptions turns the placement flags into rewrite options.
func (o placeOptions) rewriteOptions() (rewrite.Options, error) {
	var opts rewrite.Options
	ps, err := platform.ParseList(o.clusterArchs)
	if err != nil {
		return opts, fmt.Errorf("--cluster-archs %q: %w", o.clusterArchs, err)
	}
	for _, p := range ps {
		opts.Placement.ClusterArchs = append(opts.Placement.ClusterArchs, p.Architecture)
	}
	if o.armTaint != "" {
		if opts.Placement.ArmTaint, err = placement.ParseTaint(o.armTaint); err != nil {
			return opts, fmt.Errorf("--arm-taint: %w", err)
		}
	}
	if o.prefer != "" {
		if opts.Placement.Prefer, err = placement.ParsePrefer(o.prefer); err != nil {
			return opts, fmt.Errorf("--prefer: %w", err)
		}
	}
	if opts.Placement.Style, err = placement.ParseStyle(o.style); err != nil {
		return opts, fmt.Errorf("--style: %w", err)
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
	opts, err := o.rewriteOptions()
	if err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	if err := o.reg.validate(); err != nil {
		return usageError(fmt.Errorf("place: %w", err))
	}
	switch {
	case mode == modePostRenderer && len(args) > 0:
		return usageError(errors.New("place: --post-renderer reads stdin; give no files"))
	case mode != modePostRenderer && len(args) == 0:
		return usageError(errors.New("place: no files given (see 'archway place --help')"))
	case mode == modePostRenderer && o.reg.passwordStdin:
		return usageError(errors.New("place: --post-renderer and --password-stdin both read stdin"))
	}
	p := &placer{
		cmd: cmd, opts: opts, mode: mode, outDir: o.outDir, reg: o.reg,
		stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(),
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	switch {
	case mode == modePostRenderer:
		return p.postRender(ctx, cmd.InOrStdin())
	case o.kustomizePatch:
		return p.kustomize(ctx, args)
	}
	return p.files(ctx, args)
}

// placer runs one archway place.
type placer struct {
	cmd            *cobra.Command
	opts           rewrite.Options
	mode           placeMode
	outDir         string
	reg            registryFlags
	stdout, stderr io.Writer
	lookup         imageLookup // set by tests; nil: a registry client from the flags

	changed, skipped, failed int
}

// images looks refs up and converts the results for rewrite.
func (p *placer) images(ctx context.Context, refs []string) (map[string]rewrite.Image, error) {
	out := map[string]rewrite.Image{}
	if len(refs) == 0 {
		return out, nil
	}
	l := p.lookup
	if l == nil {
		c, err := p.reg.client(refs[0], p.cmd.InOrStdin())
		if err != nil {
			return nil, err
		}
		l = c
	}
	for _, r := range l.LookupAll(ctx, refs, nil) {
		out[r.Ref] = imageFromResult(r)
	}
	return out, nil
}

func imageFromResult(r registry.Result) rewrite.Image {
	if r.Err != nil {
		return rewrite.Image{Err: r.Err}
	}
	return rewrite.Image{Platforms: r.Platforms().List()}
}

// report prints what was done to each target on stderr and counts.
func (p *placer) report(file string, res []rewrite.Change) {
	for _, c := range res {
		if c.Err != nil {
			fmt.Fprintf(p.stderr, "archway place: %v (left untouched)\n", c.Err)
			p.failed++
			continue
		}
		where := fmt.Sprintf("%s:%d %s", file, c.Line, c.ID())
		for _, s := range c.Summary {
			fmt.Fprintf(p.stderr, "%s: + %s\n", where, s)
		}
		for _, s := range c.Findings {
			fmt.Fprintf(p.stderr, "%s: ! %s\n", where, s)
		}
		if c.Skipped != "" {
			fmt.Fprintf(p.stderr, "%s: skipped: %s\n", where, c.Skipped)
			p.skipped++
		}
		if c.Changed {
			p.changed++
		}
	}
}

// exit turns the counts into the exit status.
func (p *placer) exit() error {
	verb := "placed"
	if p.mode == modeDryRun || p.mode == modeCheck {
		verb = "would place"
	}
	fmt.Fprintf(p.stderr, "archway place: %s %d workload(s); %d skipped (unknown image); %d file(s) failed\n", verb, p.changed, p.skipped, p.failed)
	switch {
	case p.failed > 0:
		return withCode(ExitError, nil)
	case p.mode == modeCheck && p.changed > 0:
		return withCode(ExitUnsupported, nil)
	case p.mode == modeCheck && p.skipped > 0:
		return withCode(ExitUnknown, nil)
	}
	return nil
}
