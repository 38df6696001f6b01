package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X
// github.com/archwaydev/archway/internal/cli.version=v1.2.3"; empty, the
// module version from the build info is used.
var version = ""

// Version is archway's version: the one stamped at build time, else the
// module version (go install ...@v1.2.3), else the VCS revision of a
// build from a checkout, else "(devel)". Reports carry it.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "(devel) " + s.Value[:12]
		}
	}
	return "(devel)"
}

func newVersionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print archway's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]string{"version": Version(), "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH})
			case "", "text":
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "archway", Version())
				return err
			}
			return usageError(fmt.Errorf("-o %q: want text or json", output))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output `FORMAT`: text or json")
	return cmd
}
