package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/report"
)

// checkOptions are archway check's flags.
type checkOptions struct {
	platforms string
	files     []string
	reg       registryFlags
	output    string
	verbose   bool
	advise    bool
}

func newCheckCmd() *cobra.Command {
	o := checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [flags] IMAGE...",
		Short: "Tell whether images support arm64 (or any platform)",
		Long: `check asks each image's registry which platforms the image supports and says,
for each, whether it runs on the target platform(s): supported, unsupported,
or unknown when the lookup failed (never guessed).

Images come from the arguments and from -f files (one reference a line, '#'
starts a comment, '-' reads stdin). Output is a table on a terminal and JSON
otherwise; -o forces either. Credentials come from ~/.docker/config.json and
its credential helpers (ECR, GCR, ACR, ...), or --username/--password-stdin.

Registries that meter pulls (Docker Hub's ratelimit-limit headers) are not
overdrawn: at --pull-reserve the remaining lookups there are unknown (rate
limited) at once, with one note on how to raise the quota. Mirrors
(--registry-mirror, Docker's daemon.json registry-mirrors, containerd's
hosts.toml) are asked by digest after a free HEAD at the origin, and what
they return is verified. -v adds what was spent per registry.

Exit status (decided after every image is reported):
  0  every image supports every target platform
  1  at least one image is unsupported (a definite "no" wins over unknown)
  2  no image is unsupported, but at least one could not be told
  3  usage error (bad flag, bad reference, unreadable -f file)
  4  archway itself failed`,
		Example: `  # Does nginx run on Graviton?
  archway check nginx:1.27

  # Every listed platform must be supported
  archway check --platform linux/arm64,linux/amd64 ghcr.io/org/app:2.0 quay.io/org/tool:1.4

  # Everything running in a cluster
  kubectl get pods -A -o jsonpath='{..image}' | tr ' ' '\n' | sort -u | archway check -f -

  # JSON for scripts
  archway check -o json -f images.txt | jq -r '.images[] | select(.verdict != "supported") | .ref'

  # Docker Hub images through a pull-through mirror, no pulls spent at Docker Hub
  archway check --registry-mirror docker.io=mirror.gcr.io -f images.txt

  # And which tag to move to when an image lacks arm64
  archway check --advise registry.example.com/team/queue:1.1

  # Explicit credentials for a private registry
  echo "$TOKEN" | archway check --username me --password-stdin registry.example.com/team/app:1.0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.platforms, "platform", "linux/arm64", "target platform(s), os/arch[/variant], comma-separated; every one must be supported")
	f.StringArrayVarP(&o.files, "file", "f", nil, "read image references from `FILE`, one a line ('-' for stdin); repeatable")
	addRegistryFlags(f, &o.reg, "the first image")
	f.StringVarP(&o.output, "output", "o", "", "output format: table or json (default: table on a terminal, else json)")
	f.BoolVar(&o.advise, "advise", false, "for each unsupported image, the nearest tag that has the platform (archway advise); one --platform")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show each platform's manifest digest, and what was spent per registry, in the table")
	return cmd
}

// runCheck validates the flags, looks the images up and reports.
func runCheck(cmd *cobra.Command, args []string, o checkOptions) error {
	targets, err := parseTargets(o.platforms)
	if err != nil {
		return usageError(err)
	}
	format, err := outputFormat(o.output, "", cmd.OutOrStdout(), report.Table, report.JSON)
	if err != nil {
		return usageError(err)
	}
	if err := o.validate(); err != nil {
		return usageError(err)
	}
	if o.advise && len(targets) != 1 {
		return usageError(fmt.Errorf("check: --advise takes one --platform, not %q", o.platforms))
	}
	refs, client, err := imageRefs(cmd, "check", args, o.files, o.reg)
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	rep := app.Check(ctx, client, refs, app.CheckOptions{Targets: targets, Jobs: o.reg.jobs,
		Progress: report.NewProgress(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()))})
	if err := interrupted(ctx); err != nil {
		return err
	}
	var advice *app.AdviseResult
	if o.advise {
		a := app.AdviseCheck(ctx, client, rep, app.AdviseOptions{Target: targets[0], Jobs: o.reg.jobs})
		advice = &a
	}
	writeNotes(cmd.ErrOrStderr(), client.Notes())
	if err := writeCheckReport(cmd.OutOrStdout(), format, rep, o.verbose, advice, client.Stats()...); err != nil {
		return withCode(ExitError, fmt.Errorf("check: writing the report: %w", err))
	}
	if code := report.CheckExitCode(rep); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}

func (o checkOptions) validate() error {
	if err := o.reg.validate(); err != nil {
		return err
	}
	if o.reg.passwordStdin {
		for _, f := range o.files {
			if f == "-" {
				return errors.New("--password-stdin and -f - both read stdin; put the images in a file")
			}
		}
	}
	return nil
}
