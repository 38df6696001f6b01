package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/sandbox"
)

// demoOptions are archway demo's flags.
type demoOptions struct {
	platforms string
	serve     bool
}

// demoEnv is what the demo's steps share.
type demoEnv struct {
	out     io.Writer
	targets []platform.Platform
	server  *sandbox.Server
	lookup  imageLookup
}

// demoStep is one step of the demo; later steps (scan, place) are added to
// demoSteps.
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
'archway check' checks real images, and says what to try next.

Nothing leaves the machine. With --serve the registry keeps running until
Ctrl-C, so you can run the printed commands yourself.`,
		Example: `  archway demo
  archway demo --platform linux/arm/v7
  archway demo --serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.platforms, "platform", "linux/arm64", "target platform(s), os/arch[/variant], comma-separated")
	cmd.Flags().BoolVar(&o.serve, "serve", false, "keep the example registry running until interrupted")
	return cmd
}

func runDemo(ctx context.Context, out io.Writer, o demoOptions) (err error) {
	targets, err := parseTargets(o.platforms)
	if err != nil {
		return usageError(err)
	}
	env := &demoEnv{out: out, targets: targets}
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
	rep := checkImages(ctx, env.lookup, refs, env.targets, nil)
	if err := rep.writeTable(env.out, false); err != nil {
		return err
	}
	_, err := fmt.Fprint(env.out, `supported:   every target platform has a build in the image
unsupported: the registry answered, and a target platform is missing
unknown:     the lookup failed; archway never counts that as unsupported

`)
	return err
}

func nextSteps(_ context.Context, env *demoEnv) error {
	_, err := fmt.Fprint(env.out, `  archway check nginx:1.27                     check a real image (Docker Hub, ECR, GHCR, Quay, ...)
  archway check -f images.txt -o json          many images, JSON for scripts and CI
  archway check --platform linux/arm64,linux/amd64 IMAGE
                                               require every listed platform
  archway demo --serve                         keep the example registry running to try check on it

`)
	return err
}

// serveDemo keeps the registry running until ctx is cancelled.
func serveDemo(ctx context.Context, env *demoEnv) error {
	h := env.server.Host
	fmt.Fprintf(env.out, `The example registry keeps serving at %s until you press Ctrl-C. In another terminal:
  archway check %s/demo/queue:1.1 %s/demo/queue:2.0
  archway check -v --platform linux/arm/v7 %s/demo/worker:1.0
  archway check -o json %s/demo/api:2.1

`, h, h, h, h, h)
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
