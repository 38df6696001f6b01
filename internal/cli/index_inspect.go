package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/index"
)

// indexInspectOptions are archway index inspect's flags.
type indexInspectOptions struct {
	output string
	reg    registryFlags
}

func newIndexInspectCmd() *cobra.Command {
	o := indexInspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect [flags] REF",
		Short: "Show an index's entries and check each against its config",
		Long: `inspect reads the index (or image) at REF and, for each entry, its platform,
digest, size, media type and annotations, which attestation describes it, and
whether the platform its descriptor declares is the one its config names.
Children the registry no longer has are reported as missing.

Exit status: 0 all is well, 1 an entry disagrees with its config, is missing,
or an attestation describes no entry of the index, 2 REF or an entry could not
be read, 3 usage error.`,
		Example: `  archway index inspect registry.example.com/app:1.4
  archway index inspect -o json ghcr.io/org/app:1.4 | jq -r '.platforms[]'`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if o.output != "text" && o.output != "json" {
				return usageError(fmt.Errorf("-o %q: want text or json", o.output))
			}
			if err := o.reg.validate(); err != nil {
				return usageError(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.reg.client(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			ctx, cancel := o.reg.withTimeout(cmd.Context())
			defer cancel()
			in, err := index.Inspect(ctx, client, args[0])
			if err != nil {
				return withCode(indexExitCode(err), fmt.Errorf("index inspect: %w", err))
			}
			if err := writeInspection(cmd.OutOrStdout(), o.output, in); err != nil {
				return withCode(ExitError, err)
			}
			switch {
			case len(in.Problems) > 0:
				return withCode(ExitUnsupported, nil)
			case len(in.Unknown) > 0:
				return withCode(ExitUnknown, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	addRegistryFlags(cmd.Flags(), &o.reg, "REF")
	return cmd
}

func writeInspection(w io.Writer, format string, in *index.Inspection) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	fmt.Fprintf(w, "%s\n  %s  %s, %d bytes\n", in.Name, in.Digest, index.MediaTypeName(in.MediaType), in.Size)
	for _, k := range slices.Sorted(maps.Keys(in.Annotations)) {
		fmt.Fprintf(w, "  %s=%s\n", k, in.Annotations[k])
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPLATFORM\tCONFIG\tDIGEST\tSIZE\tMEDIA TYPE\tNOTES")
	for _, e := range in.Entries {
		plat, notes := "-", []string{}
		switch {
		case e.Config == index.ConfigAttestation:
			plat = "attestation"
			notes = append(notes, "describes "+e.Attests)
		case e.Platform != nil:
			plat = e.Platform.String()
		case e.Declared != nil:
			plat = e.Declared.String() + " (declared)"
		}
		if e.Config == index.ConfigDisagrees {
			notes = append(notes, "declared "+e.Declared.String())
		}
		for _, a := range e.AttestedBy {
			notes = append(notes, "attested by "+a)
		}
		if e.Error != "" {
			notes = append(notes, e.Error)
		}
		for _, k := range slices.Sorted(maps.Keys(e.Annotations)) {
			if k != index.AnnotationRefDigest && k != index.AnnotationRefType {
				notes = append(notes, k+"="+e.Annotations[k])
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", plat, e.Config, e.Digest, e.Size, index.MediaTypeName(e.MediaType), strings.Join(notes, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range in.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	for _, u := range in.Unknown {
		fmt.Fprintln(w, "unknown:", u)
	}
	return nil
}

// writeCreateSummary says on w what index create did.
func writeCreateSummary(w io.Writer, res *index.Result) {
	verb := "wrote " + strings.Join(res.Written, ", ")
	if len(res.Written) == 0 {
		verb = "unchanged: " + strings.Join(res.Tags, ", ") + " already point at it"
	}
	fmt.Fprintf(w, "%s\n  %s (%s: %s)\n", verb, res.Digest, index.MediaTypeName(res.MediaType), strings.Join(res.Platforms, ", "))
	for _, e := range res.Entries {
		if e.Platform != nil {
			fmt.Fprintf(w, "  %-14s %s  from %s\n", e.Platform, e.Digest, e.Source)
		} else {
			fmt.Fprintf(w, "  %-14s %s  describes %s\n", "attestation", e.Digest, e.Attests)
		}
	}
}

// indexExitCode maps an index error to an exit code: a failed check 1, an
// unreadable source or target 2, bad options 3, anything else (a failed
// push) 4.
func indexExitCode(err error) int {
	var re *index.ReadError
	var oe *index.OptionError
	switch {
	case errors.As(err, &oe):
		return ExitUsage
	case errors.Is(err, index.ErrCheck):
		return ExitUnsupported
	case errors.As(err, &re):
		return ExitUnknown
	}
	return ExitError
}
