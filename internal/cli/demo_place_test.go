package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fileDiff is a unified diff of one file with n changed lines.
func fileDiff(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n@@ -1,1 +1,%d @@\n", name, name, n+1)
	b.WriteString(" kept\n")
	for i := range n {
		fmt.Fprintf(&b, "+line %d\n", i)
	}
	return b.String()
}

func TestTrimDiff(t *testing.T) {
	long := fileDiff("a.yaml", 20)
	for _, tc := range []struct {
		name, diff string
		max        int
		want       string
	}{
		{"short enough: whole", fileDiff("a.yaml", 3) + fileDiff("b.yaml", 3), 100, fileDiff("a.yaml", 3) + fileDiff("b.yaml", 3)},
		{"exactly max lines: whole", long, 24, long},
		{
			"too long: each file cut",
			long + fileDiff("b.yaml", 2) + fileDiff("c.yaml", 20),
			40,
			strings.Join(strings.SplitAfter(long, "\n")[:10], "") +
				"[... 14 more lines of this file's diff: run the command to see it all]\n" +
				fileDiff("b.yaml", 2) +
				strings.Join(strings.SplitAfter(fileDiff("c.yaml", 20), "\n")[:10], "") +
				"[... 14 more lines of this file's diff: run the command to see it all]\n",
		},
		{
			// A removed line reading "-- a/x" is not a file header.
			"removed line like a header",
			"--- a/x\n+++ b/x\n@@ -1,3 +1,1 @@\n--- a/y\n-one\n-two\n-three\n-four\n-five\n-six\n kept\n",
			5,
			"--- a/x\n+++ b/x\n@@ -1,3 +1,1 @@\n--- a/y\n-one\n-two\n-three\n-four\n-five\n-six\n" +
				"[... 1 more line of this file's diff: run the command to see it all]\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, trimDiff(tc.diff, tc.max, 10)); diff != "" {
				t.Errorf("trimDiff (-want +got):\n%s", diff)
			}
		})
	}
}
