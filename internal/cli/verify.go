package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/verify"
)

// verifyOptions are archway verify's flags.
type verifyOptions struct {
	platforms   []string
	allow       []string
	claimsOnly  bool
	dockerfiles []string
	layerJobs   int
	blobTimeout time.Duration
	reg         registryFlags
	output      string
}

func newVerifyCmd() *cobra.Command {
	o := verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [flags] IMAGE...",
		Short: "Prove the binaries inside images match the platform they claim",
		Long: `verify compares, for each platform entry of each image, three claims: the
index descriptor's platform, the image config's os/architecture/variant, and
the binaries themselves. Layers are streamed from the registry (never written
to disk); of each file only the first bytes are read (ELF header and loader,
script shebang, PE machine). The final filesystem, after whiteouts and opaque
directories, is judged:

  error    the entrypoint (Entrypoint or Cmd[0] through PATH and symlinks,
           the command of 'sh -c', a script's interpreter, '/usr/bin/env X',
           an ELF's loader) is of the wrong machine or missing, or a
           wrong-machine ELF sits on PATH;
           a 32-bit ARM ELF in an arm64 image (Graviton4 runs no 32-bit code)
  warning  any other wrong-machine ELF, shared objects (.so, .node) included
  info     a wrong-machine file an --allow glob names (qemu-user-static ...)

Each finding names its layer, the history line that made it and the package
that owns the file (dpkg, apk), or "unowned: downloaded or copied in". Layer
records are cached by digest under the user cache dir (archway/verify);
--no-cache skips the cache. Caps on blob size, unpacked size, decompression
ratio, tar entries, path length and symlink hops make an image unknown, never
a pass.

--dockerfile FILE lints a Dockerfile instead: literal amd64/x86_64/x64 in
RUN and ADD not derived from TARGETARCH, FROM --platform=<constant> on the
final stage, node_modules or .so files copied from the build context.

Exit status:
  0  every image verified (or no lint error)
  1  at least one mismatch of severity error, or a missing platform
  2  no mismatch, but at least one image could not be told
  3  usage error
  4  archway itself failed`,
		Example: `  # Are the binaries of every platform what the index says?
  archway verify ghcr.io/org/app:2.0

  # Only the arm64 entry, as JSON
  archway verify --platform linux/arm64 -o json ghcr.io/org/app:2.0

  # Descriptor vs config only: no layer is read
  archway verify --claims-only ghcr.io/org/app:2.0

  # qemu-user-static is meant to be x86-64
  archway verify --allow '/usr/bin/qemu-*' registry.example.com/builder:1

  # Lint a Dockerfile for amd64-only downloads
  archway verify --dockerfile Dockerfile`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.platforms, "platform", nil, "check only this platform entry, os/arch[/variant] (comma-separated or repeated; default: every platform)")
	f.StringArrayVar(&o.allow, "allow", nil, "path `GLOB` of files expected to be of another machine ('**' matches any depth); repeatable")
	f.BoolVar(&o.claimsOnly, "claims-only", false, "compare the index descriptor and config claims only; read no layer")
	f.StringArrayVar(&o.dockerfiles, "dockerfile", nil, "lint this Dockerfile instead of verifying images; repeatable")
	f.IntVar(&o.layerJobs, "layer-jobs", verify.DefaultJobs, "layers to read at once (each holds up to a few MiB)")
	f.DurationVar(&o.blobTimeout, "request-timeout", 10*time.Minute, "give up on one registry request (a whole layer download) after this long")
	addRegistryFlags(f, &o.reg, "the first image")
	f.StringVarP(&o.output, "output", "o", "", "output format: table or json (default: table on a terminal, else json)")
	return cmd
}

// runVerify validates the flags, verifies the images (or lints the
// Dockerfiles) and reports.
func runVerify(cmd *cobra.Command, args []string, o verifyOptions) error {
	format, err := outputFormat(o.output, "", cmd.OutOrStdout(), report.Table, report.JSON)
	if err != nil {
		return usageError(err)
	}
	if len(o.dockerfiles) > 0 {
		if len(args) > 0 {
			return usageError(errors.New("verify: give images or --dockerfile, not both"))
		}
		return lintDockerfiles(cmd, o.dockerfiles, format)
	}
	if len(args) == 0 {
		return usageError(errors.New("verify: no images given (see 'archway verify --help')"))
	}
	if err := o.reg.validate(); err != nil {
		return usageError(err)
	}
	for _, g := range o.allow {
		if err := verify.CheckGlob(g); err != nil {
			return usageError(fmt.Errorf("--allow: %w", err))
		}
	}
	if o.layerJobs < 1 {
		return usageError(fmt.Errorf("--layer-jobs must be at least 1, got %d", o.layerJobs))
	}
	var targets []platform.Platform
	for _, s := range o.platforms {
		ps, err := parseTargets(s)
		if err != nil {
			return usageError(err)
		}
		targets = append(targets, ps...)
	}
	if o.blobTimeout <= 0 {
		return usageError(fmt.Errorf("--request-timeout must be positive, got %s", o.blobTimeout))
	}
	opts, err := o.reg.options(args[0], cmd.InOrStdin())
	if err != nil {
		return usageError(err)
	}
	// A layer is one request: the lookups' 30s per request is too short for it.
	client, err := registry.New(append(opts, registry.WithRequestTimeout(o.blobTimeout))...)
	if err != nil {
		return withCode(ExitError, err)
	}
	for i, ref := range args {
		if _, err := client.ParseReference(ref); err != nil {
			return usageError(fmt.Errorf("argument %d: %w", i+1, err))
		}
	}
	vo := verify.Options{Platforms: targets, Allow: o.allow, ClaimsOnly: o.claimsOnly, Jobs: o.layerJobs}
	if !o.reg.noCache {
		if vo.CacheDir, err = verify.DefaultCacheDir(); err != nil {
			return withCode(ExitError, fmt.Errorf("verify: cache dir: %w", err))
		}
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	results := verify.New(client, vo).Images(ctx, args, o.reg.jobs)
	write := verify.WriteTable
	if format == report.JSON {
		write = verify.WriteJSON
	}
	if err := write(cmd.OutOrStdout(), results); err != nil {
		return withCode(ExitError, fmt.Errorf("verify: writing the report: %w", err))
	}
	s := verify.Summarize(results)
	switch {
	case s.Mismatch+s.Missing > 0:
		return withCode(ExitUnsupported, nil)
	case s.Unknown > 0:
		return withCode(ExitUnknown, nil)
	}
	return nil
}

// lintDockerfiles lints each file and reports; exit 1 on any error finding.
func lintDockerfiles(cmd *cobra.Command, files []string, format report.Format) error {
	var all []verify.LintFinding
	for _, f := range files {
		got, err := verify.LintDockerfileFile(f)
		if err != nil {
			return usageError(fmt.Errorf("verify --dockerfile: %w", err))
		}
		all = append(all, got...)
	}
	write := verify.WriteLintTable
	if format == report.JSON {
		write = verify.WriteLintJSON
	}
	if err := write(cmd.OutOrStdout(), all); err != nil {
		return withCode(ExitError, fmt.Errorf("verify: writing the report: %w", err))
	}
	for _, f := range all {
		if f.Severity == verify.SeverityError {
			return withCode(ExitUnsupported, nil)
		}
	}
	return nil
}
