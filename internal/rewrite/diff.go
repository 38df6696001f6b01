package rewrite

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// WriteDiff writes a unified diff of one file's old and new content to w
// (nothing when they are equal), with a/ and b/ prefixes as git writes
// them, so that `patch -p1` and `git apply` apply it. A last line without
// a newline is marked "\ No newline at end of file". difflib computes the
// hunks; the lines are written here, because difflib's own writer counts
// a final newline as an extra empty line.
func WriteDiff(w io.Writer, path string, old, new []byte) error {
	if bytes.Equal(old, new) {
		return nil
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	slash := strings.TrimPrefix(filepath.ToSlash(path), "/")
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", slash, slash)
	m := difflib.NewMatcher(a, b)
	for _, g := range m.GetGroupedOpCodes(3) {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, c := range g {
			if c.Tag == 'e' {
				writeLines(&out, " ", a[c.I1:c.I2])
				continue
			}
			if c.Tag == 'r' || c.Tag == 'd' {
				writeLines(&out, "-", a[c.I1:c.I2])
			}
			if c.Tag == 'r' || c.Tag == 'i' {
				writeLines(&out, "+", b[c.J1:c.J2])
			}
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// hunkRange formats a hunk's line range in unified diff notation: the
// 1-based first line and the count, the line before an empty range.
func hunkRange(start, end int) string {
	switch n := end - start; n {
	case 1:
		return fmt.Sprintf("%d", start+1)
	case 0:
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, end-start)
}

func writeLines(out *strings.Builder, prefix string, lines []string) {
	for _, l := range lines {
		out.WriteString(prefix)
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// splitLines splits s after each newline; the last line may lack one, and
// an empty s has no lines.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}
