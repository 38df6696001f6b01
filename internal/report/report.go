package report

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/workload"
)

// Format is an output format.
type Format string

// The output formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	Markdown Format = "markdown"
	HTML     Format = "html"
	SARIF    Format = "sarif"
)

// Formats lists every format, in the order help text shows them.
var Formats = []Format{Table, JSON, Markdown, HTML, SARIF}

// ParseFormat reads a format name; "md" is markdown.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case Table, JSON, Markdown, HTML, SARIF:
		return f, nil
	case "md":
		return Markdown, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Option changes how a report is rendered.
type Option func(*options)

type options struct {
	color       bool
	all         bool
	toolVersion string
	baseDir     string
	title       string
}

// WithColor colours the table format's verdicts with ANSI escapes; default
// off. Other formats ignore it.
func WithColor(on bool) Option { return func(o *options) { o.color = on } }

// WithAll lists every workload in the table and Markdown formats; by
// default ready workloads are counted, not listed, except those pinned
// away from the target that could move, so a large fleet's report shows
// what needs work. Other formats always list every workload.
func WithAll(on bool) Option { return func(o *options) { o.all = on } }

// WithToolVersion sets the archway version written into SARIF and HTML;
// default "dev".
func WithToolVersion(v string) Option { return func(o *options) { o.toolVersion = v } }

// WithBaseDir makes absolute file paths relative to dir in every format
// (SARIF URIs are then relative to %SRCROOT%); default: paths are written
// as the sources gave them.
func WithBaseDir(dir string) Option { return func(o *options) { o.baseDir = dir } }

// WithTitle sets the title of the HTML and Markdown reports; default
// "archway: <target> readiness".
func WithTitle(title string) Option { return func(o *options) { o.title = title } }

// Render writes r to w in format.
func Render(w io.Writer, format Format, r assess.Report, opts ...Option) error {
	o := options{toolVersion: "dev"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.title == "" {
		o.title = "archway: " + r.Target.String() + " readiness"
	}
	var err error
	switch format {
	case Table:
		err = renderTable(w, r, o)
	case JSON:
		err = renderJSON(w, r, o)
	case Markdown:
		err = renderMarkdown(w, r, o)
	case HTML:
		err = renderHTML(w, r, o)
	case SARIF:
		err = renderSARIF(w, r, o)
	default:
		return fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return fmt.Errorf("writing the %s report: %w", format, err)
	}
	return nil
}

// path returns file as it is shown: relative to the base directory when
// one is set and file is inside it, with forward slashes.
func (o options) path(file string) string {
	if o.baseDir != "" && filepath.IsAbs(file) {
		if rel, err := filepath.Rel(o.baseDir, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	return filepath.ToSlash(file)
}

// where formats a location as file:line:column, omitting what is unknown,
// with "~" before an approximate line; empty when there is no file.
func (o options) where(l workload.Location) string {
	if l.File == "" {
		return ""
	}
	s := o.path(l.File)
	if l.Line > 0 {
		if l.Approximate {
			return s + fmt.Sprintf(":~%d", l.Line)
		}
		s += fmt.Sprintf(":%d", l.Line)
		if l.Column > 0 {
			s += fmt.Sprintf(":%d", l.Column)
		}
	}
	return s
}

// verdictLabel is the human spelling of a verdict.
func verdictLabel(v assess.Verdict) string {
	switch v {
	case assess.NotReady:
		return "not ready"
	case assess.Ready:
		return "ready"
	}
	return string(v)
}

// byVerdict returns r's workloads with verdict v, in report order.
func byVerdict(r assess.Report, v assess.Verdict) []assess.WorkloadResult {
	var out []assess.WorkloadResult
	for _, wr := range r.Workloads {
		if wr.Verdict == v {
			out = append(out, wr)
		}
	}
	return out
}

// summaryLine is the one-line summary every text format shows.
func summaryLine(r assess.Report) string {
	c := r.Summary.Workloads
	s := fmt.Sprintf("%d %s for %s: %d ready (%s), %d not ready (%s), %d unknown (%s)",
		c.Total, plural(c.Total, "workload"), r.Target,
		c.Ready, pct(c, assess.Ready), c.NotReady, pct(c, assess.NotReady), c.Unknown, pct(c, assess.Unknown))
	if c.Pinned > 0 {
		s += fmt.Sprintf("; %d pinned", c.Pinned)
		if c.CouldMove > 0 {
			s += fmt.Sprintf(", %d could move", c.CouldMove)
		}
	}
	return s
}

// pct formats the share of v in c as a whole percentage.
func pct(c assess.Counts, v assess.Verdict) string {
	return fmt.Sprintf("%.0f%%", c.Percent(v))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// groupKey is how a namespace or source key is shown.
func groupKey(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}

// pinNote describes a workload's pin in a few words; empty when unpinned.
func pinNote(wr assess.WorkloadResult, r assess.Report) string {
	if !wr.Pinned {
		return ""
	}
	s := "pinned to " + strings.Join(wr.PinnedArchitectures, ",")
	if len(wr.PinnedArchitectures) == 0 {
		s = "pinned to no architecture"
	}
	if wr.CouldMove {
		s += "; could move to " + r.Target.Architecture
	}
	return s
}

// groupBy is the summary's counts grouped by one key.
type groupBy struct {
	key    string // "namespace" or "source"
	groups []assess.Group
}

// groupings returns the summary's groupings, namespace first.
func groupings(r assess.Report) []groupBy {
	return []groupBy{{"namespace", r.Summary.ByNamespace}, {"source", r.Summary.BySource}}
}

// WriteCensus prints a cluster's node census, e.g.
//
//	Nodes in cluster "prod": 5
//	  by kubernetes.io/arch: amd64 3, arm64 2
//	  taints: arch=arm64:NoSchedule 2
func WriteCensus(w io.Writer, context string, c nodes.Census) {
	fmt.Fprintf(w, "\nNodes in cluster %q: %d\n", context, c.Nodes)
	fmt.Fprintf(w, "  by %s: %s\n", workload.ArchLabel, countList(c.ByArch))
	fmt.Fprintf(w, "  taints: %s\n", countList(c.Taints))
}

// countList writes counts as "key n, key n" sorted by key; "none" when empty.
func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// truncate shortens s to at most n runes, ending with an ellipsis; the
// full value is in the JSON formats.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// listed returns the ready workloads a table or Markdown report lists:
// all of them with WithAll, else only those with a note worth reading (a
// pin that could move).
func (o options) listed(r assess.Report, ready []assess.WorkloadResult) []assess.WorkloadResult {
	if o.all {
		return ready
	}
	var out []assess.WorkloadResult
	for _, wr := range ready {
		if wr.CouldMove {
			out = append(out, wr)
		}
	}
	return out
}
