package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
)

var verdictIcon = map[assess.Verdict]string{
	assess.Ready:    "✅",
	assess.NotReady: "❌",
	assess.Unknown:  "❔",
}

func renderMarkdown(w io.Writer, r assess.Report, o options) error {
	var b strings.Builder
	c := r.Summary.Workloads
	fmt.Fprintf(&b, "## %s\n\n", mdText(o.title))
	fmt.Fprintf(&b, "**%d %s** for `%s`: %s %d ready (%s) · %s %d not ready (%s) · %s %d unknown (%s)",
		c.Total, plural(c.Total, "workload"), r.Target,
		verdictIcon[assess.Ready], c.Ready, pct(c, assess.Ready),
		verdictIcon[assess.NotReady], c.NotReady, pct(c, assess.NotReady),
		verdictIcon[assess.Unknown], c.Unknown, pct(c, assess.Unknown))
	if c.Pinned > 0 {
		fmt.Fprintf(&b, " · 📌 %d pinned (%d could move)", c.Pinned, c.CouldMove)
	}
	ic := r.Summary.Images
	fmt.Fprintf(&b, "\n\nImages: %d distinct, %d supported, %d unsupported, %d unknown.\n\n", ic.Total, ic.Ready, ic.NotReady, ic.Unknown)

	writeFixFirstMarkdown(&b, o.fixFirst(r))
	var todo []assess.WorkloadResult
	todo = append(todo, byVerdict(r, assess.NotReady)...)
	todo = append(todo, byVerdict(r, assess.Unknown)...)
	if len(todo) > 0 {
		b.WriteString("| Verdict | Workload | Source | Location | Why |\n|---|---|---|---|---|\n")
		for _, wr := range todo {
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s |\n",
				verdictIcon[wr.Verdict], verdictLabel(wr.Verdict), mdCode(wr.Workload.ID()), wr.Workload.Source,
				mdCode(o.where(wr.Workload.Location)), mdCell(strings.Join(wr.Reasons, "\n")))
		}
		b.WriteString("\n")
	}
	if ready := byVerdict(r, assess.Ready); len(ready) > 0 {
		shown := o.listed(r, ready)
		summary := fmt.Sprintf("%d ready %s", len(ready), plural(len(ready), "workload"))
		if len(shown) < len(ready) {
			summary += fmt.Sprintf(" (%d listed: those that could move; --all lists every one)", len(shown))
		}
		fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", summary)
		if len(shown) > 0 {
			b.WriteString("| Workload | Source | Location | Note |\n|---|---|---|---|\n")
		}
		for _, wr := range shown {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCode(wr.Workload.ID()), wr.Workload.Source,
				mdCode(o.where(wr.Workload.Location)), mdCell(pinNote(wr, r)))
		}
		b.WriteString("\n</details>\n\n")
	}
	if len(r.Workloads) == 0 {
		b.WriteString("No workloads found.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("<details><summary>By namespace and source</summary>\n\n")
	for _, g := range groupings(r) {
		fmt.Fprintf(&b, "| %s | Workloads | Ready | Not ready | Unknown | Pinned |\n|---|--:|--:|--:|--:|--:|\n", strings.ToUpper(g.key[:1])+g.key[1:])
		for _, gr := range g.groups {
			fmt.Fprintf(&b, "| %s | %d | %d (%s) | %d | %d | %d |\n", mdText(groupKey(gr.Key)), gr.Total,
				gr.Ready, pct(gr.Counts, assess.Ready), gr.NotReady, gr.Unknown, gr.Pinned)
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCode formats s as inline code; empty stays empty.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

// mdCell makes s safe inside a table cell: pipes escaped, line breaks as
// <br>, HTML special characters escaped.
func mdCell(s string) string {
	s = mdText(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

// mdText escapes the characters GitHub would read as HTML.
func mdText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
