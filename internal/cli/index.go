package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/index"
	"github.com/archwaydev/archway/internal/platform"
)

// indexCreateOptions are archway index create's flags.
type indexCreateOptions struct {
	file        string
	template    string
	platforms   string
	expect      string
	tags        []string
	annotations []string
	mediaType   string
	force       bool
	dryRun      bool
	verify      bool
	output      string
	reg         registryFlags
}

func newIndexCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Assemble multi-arch images from per-arch builds, and inspect them",
		Long: `index create builds a multi-arch image (an OCI image index or a Docker manifest
list) from images built natively per architecture, checking each platform
against the image's own config; index inspect reads one back.`,
		Example: `  archway index create --expect linux/amd64,linux/arm64 registry.example.com/app:1.4 \
    registry.example.com/app:1.4-amd64 registry.example.com/app:1.4-arm64
  archway index inspect registry.example.com/app:1.4`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newIndexCreateCmd(), newIndexInspectCmd())
	return cmd
}

func newIndexCreateCmd() *cobra.Command {
	o := indexCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create [flags] TARGET SOURCE... | TARGET --template T --platforms P | -f SPEC",
		Short: "Build a multi-arch index from per-arch images and push it",
		Long: `create reads each SOURCE (an image or an index, by tag or digest, in any
repository or registry), takes each entry's platform from its config blob, and
pushes an index listing them at TARGET. Index sources (buildx pushes one for
each platform, with a provenance attestation) are flattened; their attestations
are kept while the image they describe is in the new index.

It fails, writing nothing, when a declared platform (from --template, a spec
file or a source index) disagrees with the config, when two images have one
platform, when a config names none, when --expect is not exactly the result's
platforms, and when TARGET now has platforms the new index lacks (--force
replaces it anyway).

Children are copied by digest into TARGET's repository first (blobs are
mounted from other repositories of the same registry, uploaded when a mount
fails or the source is elsewhere), then the index is put at TARGET and each
--tag. The same sources give the same digest; a tag already at it is left
alone. The digest is printed on stdout, what was done on stderr.

A spec file (-f) is manifest-tool's format; the platform may also be written
"os/arch[/variant]", and each manifest may carry annotations:
  image: registry.example.com/app:1.4
  tags: ["1", latest]
  annotations: {org.opencontainers.image.source: https://example.com/app}
  mediaType: oci
  manifests:
    - image: registry.example.com/app:1.4-arm64
      platform: {os: linux, architecture: arm64}
    - image: registry.example.com/app:1.4-amd64
      platform: linux/amd64

Exit status: 0 written (or already there), 1 a check failed, 2 a source or
the target could not be read, 3 usage error, 4 the push failed.`,
		Example: `  # Per-arch images pushed by native runners, one index
  archway index create registry.example.com/app:1.4 \
    registry.example.com/app:1.4-amd64 registry.example.com/app:1.4-arm64

  # The same from a template, failing unless exactly these two platforms result
  archway index create registry.example.com/app:1.4 --template 'registry.example.com/app:1.4-{arch}' \
    --platforms linux/amd64,linux/arm64 --expect linux/amd64,linux/arm64

  # Sources pushed by digest (GitHub Actions push-by-digest), plus the latest tag
  archway index create --tag latest ghcr.io/org/app:1.4 ghcr.io/org/app@sha256:1f… ghcr.io/org/app@sha256:9c…

  # Show the index JSON without writing; a Docker manifest list instead of OCI
  archway index create --dry-run --media-type docker -f index.yaml`,
		PreRunE: func(cmd *cobra.Command, args []string) error { return o.validate(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIndexCreate(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "read the target, tags, annotations and sources from spec `FILE` ('-' for stdin)")
	f.StringVar(&o.template, "template", "", "source reference `TEMPLATE` with {os}, {arch}, {variant}, one per --platforms entry")
	f.StringVar(&o.platforms, "platforms", "", "platforms for --template, os/arch[/variant], comma-separated")
	f.StringVar(&o.expect, "expect", "", "fail unless the index has exactly these platforms, comma-separated")
	f.StringArrayVar(&o.tags, "tag", nil, "also put the index at `TAG` in TARGET's repository; repeatable")
	f.StringArrayVar(&o.annotations, "annotation", nil, "index annotation `KEY=VALUE` (OCI only); repeatable")
	f.StringVar(&o.mediaType, "media-type", "", "oci (OCI image index, the default) or docker (Docker manifest list)")
	f.BoolVar(&o.force, "force", false, "replace TARGET even when it now has platforms the new index lacks")
	f.BoolVar(&o.dryRun, "dry-run", false, "check and print the index JSON; write nothing")
	f.BoolVar(&o.verify, "verify", false, "first check every source's binaries against its platform (archway verify); refuse on a mismatch")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	addRegistryFlags(f, &o.reg, "TARGET")
	return cmd
}

// validate checks the flags and arguments without reading anything.
func (o indexCreateOptions) validate(args []string) error {
	var err error
	switch {
	case o.output != "text" && o.output != "json":
		err = fmt.Errorf("-o %q: want text or json", o.output)
	case o.mediaType != "" && o.mediaType != index.OCI && o.mediaType != index.Docker:
		err = fmt.Errorf("--media-type %q: want oci or docker", o.mediaType)
	case o.file != "" && (len(args) > 0 || o.template != ""):
		err = errors.New("-f SPEC names the target and sources; give no TARGET, SOURCE or --template with it")
	case o.template != "" && (len(args) != 1 || o.platforms == ""):
		err = errors.New("--template needs exactly one argument, TARGET, and --platforms")
	case o.file == "-" && o.reg.passwordStdin:
		err = errors.New("-f - and --password-stdin both read stdin; put the spec in a file")
	case o.platforms != "" && o.template == "":
		err = errors.New("--platforms goes with --template")
	case o.file == "" && o.template == "" && len(args) < 2:
		err = errors.New("give TARGET and at least one SOURCE, TARGET --template T --platforms P, or -f SPEC")
	default:
		err = o.reg.validate()
	}
	if err == nil {
		_, err = o.parseAnnotations()
	}
	if err == nil && o.expect != "" {
		_, err = platform.ParseList(o.expect)
	}
	if err != nil {
		return usageError(fmt.Errorf("index create: %w", err))
	}
	return nil
}

func (o indexCreateOptions) parseAnnotations() (map[string]string, error) {
	if len(o.annotations) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, a := range o.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--annotation %q: want KEY=VALUE", a)
		}
		m[k] = v
	}
	return m, nil
}

// createOptions turns the flags, arguments and spec file into index.Options.
func (o indexCreateOptions) createOptions(args []string, stdin io.Reader) (index.Options, error) {
	var opts index.Options
	var err error
	switch {
	case o.file != "":
		opts, err = readSpecFile(o.file, stdin)
	case o.template != "":
		var ps []platform.Platform
		if ps, err = platform.ParseList(o.platforms); err == nil {
			opts.Target = args[0]
			opts.Sources, err = index.Expand(o.template, ps)
		}
	default:
		opts.Target = args[0]
		for _, a := range args[1:] {
			opts.Sources = append(opts.Sources, index.Source{Ref: a})
		}
	}
	if err != nil {
		return opts, err
	}
	if o.expect != "" {
		opts.Expect, _ = platform.ParseList(o.expect)
	}
	if ann, _ := o.parseAnnotations(); len(ann) > 0 {
		if opts.Annotations == nil {
			opts.Annotations = map[string]string{}
		}
		maps.Copy(opts.Annotations, ann)
	}
	opts.Tags = append(opts.Tags, o.tags...)
	if o.mediaType != "" {
		opts.MediaType = o.mediaType
	}
	opts.Force, opts.DryRun, opts.Jobs = o.force, o.dryRun, o.reg.jobs
	return opts, nil
}

func readSpecFile(path string, stdin io.Reader) (index.Options, error) {
	if path == "-" {
		return index.ReadSpec(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return index.Options{}, err
	}
	defer f.Close()
	return index.ReadSpec(f)
}

func runIndexCreate(cmd *cobra.Command, args []string, o indexCreateOptions) error {
	opts, err := o.createOptions(args, cmd.InOrStdin())
	if err != nil {
		return usageError(fmt.Errorf("index create: %w", err))
	}
	client, err := o.reg.client(opts.Target, cmd.InOrStdin())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	res, _, err := app.CreateIndex(ctx, client, app.CreateIndexOptions{Options: opts, Verify: o.verify})
	if err != nil {
		return withCode(indexExitCode(err), fmt.Errorf("index create: %w", err))
	}
	out, log := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, n := range res.Notes {
		fmt.Fprintln(log, "note:", n)
	}
	switch {
	case o.output == "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	case res.DryRun:
		_, err = fmt.Fprintf(out, "%s\n", res.Manifest)
	default:
		writeCreateSummary(log, res)
		_, err = fmt.Fprintln(out, res.Digest)
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	return nil
}
