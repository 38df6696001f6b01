package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/advisor"
	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/report"
)

// adviseOptions are archway advise's flags.
type adviseOptions struct {
	platform  string
	files     []string
	ecosystem []string
	reg       registryFlags
	output    string
}

func newAdviseCmd() *cobra.Command {
	o := adviseOptions{}
	cmd := &cobra.Command{
		Use:   "advise [flags] IMAGE...",
		Short: "Find the nearest tag of each image that runs on arm64 (or any platform)",
		Long: `advise says, for each image that lacks the target platform, which tag to move
to: the nearest tag above the current one in the same tag scheme (same prefix,
suffixes and distro, arch token aside) that has the platform, and the newest.

It lists the repository's tags (Docker Hub's Hub API, with each tag's
architectures, when it can; else the registry's tags/list), probes the newest
first, then gallops up from the current tag and bisects, spending at most
⌈log₂ n⌉+3 manifest lookups for n candidate tags (aliases of a digest already
judged are free: a HEAD tells). The boundary is confirmed (the suggested tag
has the platform, the one before it does not), and a newest tag that lost the
platform is said ("newest lacks arm64 — regression?"). Support is judged as
'archway check' judges it: attestations are not platforms, arm/v7 is not arm64.

Known projects (the ecosystem data: the first version with arm64, repositories
that moved, such as k8s.gcr.io → registry.k8s.io or -arm64 repositories now
multi-arch) speed the search up; every suggestion from the data is checked at
the registry first. --ecosystem-file adds or overrides entries (YAML, the
shape of the embedded data: projects with project, repos, since, notes, link;
replacements with from, to, prefix, newest, label).

Alternatives are labelled: the arch-free tag of an -amd64 tag (often the
multi-arch one), an arch-sibling tag (single-arch, needs a node pin), the same
release on a newer distro, a replacement repository.

Exit status:
  0  every image supports the target or has a confirmed suggestion
  1  at least one image has no suggestion
  2  none lacks one, but at least one could not be told
  3  usage error`,
		Example: `  # Which tag of the queue image runs on Graviton?
  archway advise registry.example.com/team/queue:1.1

  # Every image of a list, as JSON
  archway advise -o json -f images.txt | jq '.images[] | {ref, nearest: .nearest.tag}'

  # Another target, and your own ecosystem data
  archway advise --platform linux/arm/v7 --ecosystem-file ours.yaml quay.io/org/tool:1.4`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdvise(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", "linux/arm64", "target platform, os/arch[/variant]")
	f.StringArrayVarP(&o.files, "file", "f", nil, "read image references from `FILE`, one a line ('-' for stdin); repeatable")
	f.StringArrayVar(&o.ecosystem, "ecosystem-file", nil, "add or override ecosystem data from this YAML `FILE`; repeatable")
	addRegistryFlags(f, &o.reg, "the first image")
	f.StringVarP(&o.output, "output", "o", "", "output format: table or json (default: table on a terminal, else json)")
	return cmd
}

// runAdvise validates the flags, advises every image and reports.
func runAdvise(cmd *cobra.Command, args []string, o adviseOptions) error {
	targets, err := parseTargets(o.platform)
	if err != nil {
		return usageError(err)
	}
	if len(targets) != 1 {
		return usageError(fmt.Errorf("--platform %q: advise takes one target platform", o.platform))
	}
	format, err := outputFormat(o.output, "", cmd.OutOrStdout(), report.Table, report.JSON)
	if err != nil {
		return usageError(err)
	}
	if err := o.reg.validate(); err != nil {
		return usageError(err)
	}
	eco, err := advisor.LoadEcosystem(o.ecosystem...)
	if err != nil {
		return usageError(fmt.Errorf("advise: %w", err))
	}
	refs, client, err := imageRefs(cmd, "advise", args, o.files, o.reg)
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	res := app.Advise(ctx, client, refs, app.AdviseOptions{Target: targets[0], Ecosystem: eco, Jobs: o.reg.jobs})
	if err := interrupted(ctx); err != nil {
		return err
	}
	writeNotes(cmd.ErrOrStderr(), client.Notes())
	write := advisor.WriteJSON
	if format == report.Table {
		write = advisor.WriteTable
	}
	if err := write(cmd.OutOrStdout(), res.Target, res.Images); err != nil {
		return withCode(ExitError, fmt.Errorf("advise: writing the report: %w", err))
	}
	if code := app.AdviseExitCode(res); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}
