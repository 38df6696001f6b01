package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/rewrite"
)

// The place step prints the whole diff when it has at most demoDiffLines
// lines; a longer one is cut to demoFileDiffLines lines per file.
const (
	demoDiffLines     = 120
	demoFileDiffLines = 30
)

// placeDemoFleet shows the placement 'archway place --dry-run --arm-taint'
// would write into the example fleet, by running the place command itself
// on it, and how to write it.
func placeDemoFleet(ctx context.Context, env *demoEnv) error {
	fmt.Fprintf(env.out, `place writes the placement each workload needs: a required kubernetes.io/arch
node affinity (in compose files, 'platform:') when an image lacks arm64 and,
when arm64 runs every container, the toleration for your arm64 nodes' taint
(--arm-taint).

$ archway place --dry-run --arm-taint %s %s

`, placement.DefaultArmTaint, env.fleet)
	taint, err := placement.ParseTaint(placement.DefaultArmTaint)
	if err != nil {
		return err
	}
	var diff bytes.Buffer
	opts := app.PlaceOptions{Mode: app.PlaceDryRun, Jobs: registry.DefaultJobs, Out: &diff,
		Rewrite: rewrite.Options{Placement: placement.Options{ClusterArchs: []string{"amd64", "arm64"}, ArmTaint: taint}}}
	res, err := app.Place(ctx, env.lookup, []string{env.fleet}, opts)
	if err != nil {
		return fmt.Errorf("archway place: %w", err)
	}
	writePlaceNotes(env.out, res, app.PlaceDryRun)
	if res.Failed > 0 {
		return fmt.Errorf("archway place: %d %s failed", res.Failed, plural(res.Failed, "file", "files"))
	}
	if diff.Len() == 0 {
		_, err := fmt.Fprint(env.out, "\nNothing to change.\n\n")
		return err
	}
	_, err = fmt.Fprintf(env.out, `
%s
Nothing was written. To write it, run this while '%s' keeps
the demo's registry up (the example images live only there):

  archway place --in-place --arm-taint %s %s

`, trimDiff(diff.String(), demoDiffLines, demoFileDiffLines), serveCommand(env), placement.DefaultArmTaint, env.fleet)
	return err
}

// trimDiff returns a unified diff of many files whole when it has at most
// max lines; otherwise each file's part is cut to perFile lines, with a
// line saying how many were left out.
func trimDiff(diff string, max, perFile int) string {
	lines := strings.SplitAfter(diff, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= max {
		return diff
	}
	var b strings.Builder
	flush := func(part []string) {
		if len(part) <= perFile {
			b.WriteString(strings.Join(part, ""))
			return
		}
		b.WriteString(strings.Join(part[:perFile], ""))
		n, lines := len(part)-perFile, "lines"
		if n == 1 {
			lines = "line"
		}
		fmt.Fprintf(&b, "[... %d more %s of this file's diff: run the command to see it all]\n", n, lines)
	}
	start := 0
	for i := 1; i < len(lines); i++ {
		// A file's part starts with its "--- a/" and "+++ b/" headers.
		if strings.HasPrefix(lines[i], "--- a/") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ b/") {
			flush(lines[start:i])
			start = i
		}
	}
	flush(lines[start:])
	return b.String()
}

// serveCommand is the command that runs this demo again with its registry
// kept up.
func serveCommand(env *demoEnv) string {
	if env.dir == defaultDemoDir {
		return "archway demo --serve"
	}
	return "archway demo --serve --dir " + env.dir
}
