package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
)

// tableWidth is the width the table format wraps explanations to.
const tableWidth = 100

// metaColumn is the column a workload's source and location start at.
const metaColumn = 44

// groupKeyWidth is the widest namespace or source name the summary table
// shows whole; longer ones end in an ellipsis.
const groupKeyWidth = 40

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
)

func renderTable(w io.Writer, r assess.Report, o options) error {
	var b strings.Builder
	paint := func(v assess.Verdict, s string) string {
		if !o.color {
			return s
		}
		c := map[assess.Verdict]string{assess.NotReady: ansiRed, assess.Unknown: ansiYellow, assess.Ready: ansiGreen}[v]
		return ansiBold + c + s + ansiReset
	}
	if len(r.Workloads) == 0 {
		b.WriteString("No workloads found.\n\n")
	}
	for _, v := range assess.Verdicts {
		wrs := byVerdict(r, v)
		if len(wrs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (%d)\n", paint(v, strings.ToUpper(verdictLabel(v))), len(wrs))
		hidden := 0
		if v == assess.Ready {
			shown := o.listed(r, wrs)
			hidden, wrs = len(wrs)-len(shown), shown
		}
		for _, wr := range wrs {
			head := "  " + truncate(wr.Workload.ID(), tableWidth-4)
			meta := string(wr.Workload.Source)
			if at := o.where(wr.Workload.Location); at != "" {
				meta += " " + at
			}
			if pad := max(2, metaColumn-len(head)); len(head)+pad+len(meta) <= tableWidth {
				fmt.Fprintf(&b, "%s%s%s\n", head, strings.Repeat(" ", pad), meta)
			} else {
				fmt.Fprintf(&b, "%s\n      %s\n", head, meta)
			}
			if v == assess.Ready {
				// Ready workloads: only what is worth knowing.
				if note := pinNote(wr, r); note != "" {
					wrap(&b, "    - ", note)
				}
				continue
			}
			for _, reason := range wr.Reasons {
				wrap(&b, "    - ", reason)
			}
		}
		if hidden > 0 {
			more := ""
			if len(wrs) > 0 {
				more = " more"
			}
			fmt.Fprintf(&b, "  ... and %d%s ready %s (--all lists them)\n", hidden, more, plural(hidden, "workload"))
		}
		b.WriteString("\n")
	}
	for _, g := range groupings(r) {
		if len(g.groups) == 0 {
			continue
		}
		title := strings.ToUpper(g.key)
		width := len(title)
		for _, gr := range g.groups {
			width = max(width, len([]rune(truncate(groupKey(gr.Key), groupKeyWidth))))
		}
		row := func(name string, cols ...any) {
			fmt.Fprintf(&b, "%-*s  %9v  %5v  %9v  %7v  %6v\n", append([]any{width, name}, cols...)...)
		}
		row(title, "WORKLOADS", "READY", "NOT READY", "UNKNOWN", "PINNED")
		for _, gr := range g.groups {
			row(truncate(groupKey(gr.Key), groupKeyWidth), gr.Total, gr.Ready, gr.NotReady, gr.Unknown, gr.Pinned)
		}
		b.WriteString("\n")
	}
	writeFixFirstTable(&b, o.fixFirst(r))
	ic := r.Summary.Images
	fmt.Fprintf(&b, "Images: %d distinct, %d supported, %d unsupported, %d unknown\n", ic.Total, ic.Ready, ic.NotReady, ic.Unknown)
	wrap(&b, "Summary: ", summaryLine(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text after prefix, wrapped at tableWidth, continuation lines
// indented under the text. Words longer than a line are not broken.
func wrap(b *strings.Builder, prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > tableWidth {
			b.WriteString(line + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line + "\n")
}
