package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/rewrite"
	"github.com/archwaydev/archway/internal/sandbox"
)

// demoOptions are archway demo's flags.
type demoOptions struct {
	platforms string
	serve     bool
	dir       string
}

// demoMarker is the file that marks a directory as written by the demo,
// which may then write there again.
const demoMarker = ".archway-demo"

// defaultDemoDir is --dir's default.
const defaultDemoDir = "archway-demo"

// demoEnv is what the demo's steps share.
type demoEnv struct {
	out     io.Writer
	targets []platform.Platform
	server  *sandbox.Server
	lookup  *registry.Client
	// dir is the directory the demo writes to (--dir); fleet is the
	// example fleet under it and scan the scan's report of the fleet.
	dir   string
	fleet string
	scan  assess.Report
}

// demoStep is one step of the demo.
type demoStep struct {
	title string
	run   func(ctx context.Context, env *demoEnv) error
}

func newDemoCmd() *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show what archway does on built-in example images (no network needed)",
		Long: `demo starts a registry on 127.0.0.1 holding a catalogue of tiny example images
(multi-arch indexes, Docker manifest lists, single-platform images, buildx
attestations, a windows image, a tag series), checks them for arm64 exactly as
'archway check' checks real images, then writes a small example fleet
(Kubernetes manifests, a Helm chart, a compose file with a Dockerfile, an ECS
task definition) under DIR/examples, scans it as 'archway scan' would, writes
an HTML report to DIR/report.html, shows as a diff the placement 'archway
place' would write into the fleet, and says what to try next.

DIR (--dir, default ./archway-demo) is created if needed. The demo writes
only into a directory that is empty or that it wrote before (it leaves a
.archway-demo file there); it refuses any other.

Nothing leaves the machine. With --serve the registry keeps running until
Ctrl-C, so you can run the printed commands yourself.`,
		Example: `  archway demo
  archway demo --platform linux/arm/v7
  archway demo --dir /tmp/archway-demo
  archway demo --serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.platforms, "platform", "linux/arm64", "target platform(s), os/arch[/variant], comma-separated")
	cmd.Flags().BoolVar(&o.serve, "serve", false, "keep the example registry running until interrupted")
	cmd.Flags().StringVar(&o.dir, "dir", defaultDemoDir, "`DIR` to write the example fleet and the HTML report to")
	return cmd
}

func runDemo(ctx context.Context, out io.Writer, o demoOptions) (err error) {
	targets, err := parseTargets(o.platforms)
	if err != nil {
		return usageError(err)
	}
	if err := claimDemoDir(o.dir); err != nil {
		return usageError(fmt.Errorf("demo: %w", err))
	}
	env := &demoEnv{out: out, targets: targets, dir: o.dir, fleet: filepath.Join(o.dir, "examples")}
	defer func() {
		if env.server == nil {
			return
		}
		if cerr := env.server.Close(); cerr != nil && err == nil {
			err = withCode(ExitError, cerr)
		}
	}()
	steps := demoSteps()
	if o.serve {
		steps = append(steps, demoStep{"Serve", serveDemo})
	}
	for i, s := range steps {
		fmt.Fprintf(out, "%d. %s\n\n", i+1, s.title)
		if err := s.run(ctx, env); err != nil {
			return withCode(ExitError, fmt.Errorf("demo: %s: %w", strings.ToLower(s.title), err))
		}
	}
	return nil
}

// demoSteps are the demo's steps, in order.
func demoSteps() []demoStep {
	return []demoStep{
		{"Start a registry with example images", startDemoRegistry},
		{"Check every image", checkDemoImages},
		{"Scan an example fleet", scanDemoFleet},
		{"Write an HTML report", writeDemoReport},
		{"Place the fleet's workloads (a dry run)", placeDemoFleet},
		{"Assemble a multi-arch image from per-arch builds", indexDemoImages},
		{"Check node groups and where each workload can land", nodesDemo},
		{"What to try next", nextSteps},
	}
}

func startDemoRegistry(ctx context.Context, env *demoEnv) error {
	s, err := sandbox.Start(ctx)
	if err != nil {
		return err
	}
	env.server = s
	client, err := registry.New(registry.WithoutCache())
	if err != nil {
		return err
	}
	env.lookup = client
	fmt.Fprintf(env.out, "A registry on %s holds %d example images (nothing leaves this machine).\n\n",
		s.Host, len(sandbox.Catalog()))
	return nil
}

func checkDemoImages(ctx context.Context, env *demoEnv) error {
	var refs []string
	for _, img := range sandbox.Catalog() {
		refs = append(refs, img.Ref(env.server.Host))
	}
	refs = append(refs, env.server.Host+"/"+sandbox.MissingRef)
	fmt.Fprintf(env.out, "$ archway check --platform %s %s/demo/...\n\n", platformList(env.targets), env.server.Host)
	rep := app.Check(ctx, env.lookup, refs, app.CheckOptions{Targets: env.targets, Jobs: registry.DefaultJobs})
	if err := report.RenderCheck(env.out, report.Table, rep, false); err != nil {
		return err
	}
	_, err := fmt.Fprint(env.out, `supported:   every target platform has a build in the image
unsupported: the registry answered, and a target platform is missing
unknown:     the lookup failed; archway never counts that as unsupported

`)
	return err
}

// claimDemoDir makes sure the demo may write into dir: it creates dir when
// missing and marks it; an existing directory must be empty or marked.
func claimDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("--dir %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("--dir %s is not empty and was not written by archway demo; give an empty or new directory with --dir", dir)
		}
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("written by archway demo; it may replace the files here\n"), 0o644)
}

// scanDemoFleet writes the example fleet pointing at the demo registry and
// scans it against the first target.
func scanDemoFleet(ctx context.Context, env *demoEnv) error {
	if err := sandbox.WriteFleet(env.fleet, env.server.Host); err != nil {
		return err
	}
	target := env.targets[0]
	fmt.Fprintf(env.out, "Wrote an example fleet to %s: Kubernetes manifests, a Helm chart, a compose file\nwith the Dockerfile it builds, and an ECS task definition.\n\n", env.fleet)
	fmt.Fprintf(env.out, "$ archway scan --platform %s %s\n\n", target, env.fleet)
	res := app.Scan(ctx, env.lookup, app.ScanOptions{Paths: []string{env.fleet}, Target: target, Jobs: registry.DefaultJobs})
	if err := errors.Join(res.Errs...); err != nil {
		return err
	}
	env.scan = res.Report
	if err := report.Render(env.out, report.Table, env.scan); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.out)
	return err
}

// writeDemoReport writes the scan as an HTML report and prints its path.
func writeDemoReport(_ context.Context, env *demoEnv) error {
	var buf bytes.Buffer
	if err := report.Render(&buf, report.HTML, env.scan); err != nil {
		return err
	}
	path := filepath.Join(env.dir, "report.html")
	if err := rewrite.WriteFile(path, buf.Bytes()); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.out, "$ archway scan -o html --output-file %s %s\n\nOpen it in a browser (it works offline): file://%s\n\n", path, env.fleet, filepath.ToSlash(abs))
	return err
}

func nextSteps(_ context.Context, env *demoEnv) error {
	fmt.Fprintf(env.out, `From a clone, 'go install ./cmd/archway' puts archway on your PATH.

On the example fleet, while '%s' keeps its registry up:
`, serveCommand(env))
	writeCommands(env.out, [][2]string{
		{"archway scan -o json " + env.fleet, "the scan above, as JSON for scripts"},
		{"archway place --check --arm-taint " + placement.DefaultArmTaint + " " + env.fleet, "in CI: exit 1 while a workload lacks its placement"},
	})
	fmt.Fprint(env.out, "\nOn your own images, manifests and cluster:\n")
	writeCommands(env.out, [][2]string{
		{"archway check nginx:1.27", "check a real image (Docker Hub, ECR, GHCR, Quay, ...)"},
		{"archway check --platform linux/arm64,linux/amd64 IMAGE...", "require every listed platform"},
		{"archway scan DIR|FILE|CHART...", "every workload in manifests, Helm charts, compose files"},
		{"archway scan --cluster -A", "every workload running in your cluster, and its nodes"},
		{"archway place --dry-run --arm-taint " + placement.DefaultArmTaint + " DIR", "the placement your manifests need, as a diff"},
		{"archway webhook manifests --generate-certs --arm-taint " + placement.DefaultArmTaint + " | kubectl apply -f -",
			"install the webhook that places pods as they are created"},
	})
	_, err := fmt.Fprintln(env.out)
	return err
}

// writeCommands prints commands with what they do in a column, on the
// next line when the command is too long.
func writeCommands(w io.Writer, cmds [][2]string) {
	const width = 45
	for _, c := range cmds {
		if len(c[0]) > width-2 {
			fmt.Fprintf(w, "  %s\n  %*s%s\n", c[0], width, "", c[1])
			continue
		}
		fmt.Fprintf(w, "  %-*s%s\n", width, c[0], c[1])
	}
}

// serveDemo keeps the registry running until ctx is cancelled.
func serveDemo(ctx context.Context, env *demoEnv) error {
	h := env.server.Host
	fmt.Fprintf(env.out, `The example registry keeps serving at %s until you press Ctrl-C. In another terminal:
  archway check %s/demo/queue:1.1 %s/demo/queue:2.0
  archway check -v --platform linux/arm/v7 %s/demo/worker:1.0
  archway check -o json %s/demo/api:2.1
  archway scan %s
  archway place --in-place --arm-taint %s %s

`, h, h, h, h, h, env.fleet, placement.DefaultArmTaint, env.fleet)
	<-ctx.Done()
	return nil
}

func platformList(ps []platform.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
