package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/workload"
)

// ImageFix is one image that keeps workloads off the target, and what
// fixing it would unblock.
type ImageFix struct {
	// Ref is the image as written.
	Ref string `json:"ref"`
	// Blocks is how many workloads it keeps from being ready (it lacks the
	// target in a container that counts).
	Blocks int `json:"blocks"`
	// Unblocks is how many of those it alone keeps from being ready: they
	// are ready once it is fixed.
	Unblocks int `json:"unblocks"`
	// CPUMillis is the CPU the blocked workloads' pods request, in
	// millicores, one pod each (Kubernetes pod specs that set requests;
	// replicas are not counted); 0 when no manifest says.
	CPUMillis int64 `json:"cpuMillis"`
	// Workloads are the IDs of the workloads it blocks, in report order.
	Workloads []string `json:"workloads"`
	// Advice is what to do, in one line (archway advise's), or "".
	Advice string `json:"advice,omitempty"`
}

// WithAdvice adds, to every format, the images to fix first (FixFirst),
// each with its advice: advice maps an image reference to one line.
func WithAdvice(advice map[string]string) Option {
	return func(o *options) {
		if advice == nil {
			advice = map[string]string{}
		}
		o.advice = advice
	}
}

// FixFirst returns the images that lack the target in workloads that are
// not ready, ranked by what fixing each unblocks: workloads it alone
// blocks, then workloads it blocks, then reference.
func FixFirst(r assess.Report, advice map[string]string) []ImageFix {
	byRef := map[string]*ImageFix{}
	var order []string
	for _, wr := range r.Workloads {
		if wr.Verdict != assess.NotReady {
			continue
		}
		var blockers []string
		unknown := false
		for _, c := range wr.Containers {
			switch {
			case c.Build:
			case c.Verdict == assess.Unsupported:
				if !slices.Contains(blockers, c.Container.Image) {
					blockers = append(blockers, c.Container.Image)
				}
			case c.Verdict == assess.Unknown:
				unknown = true
			}
		}
		for _, ref := range blockers {
			f, ok := byRef[ref]
			if !ok {
				f = &ImageFix{Ref: ref, Advice: advice[ref], Workloads: []string{}}
				byRef[ref] = f
				order = append(order, ref)
			}
			f.Blocks++
			f.CPUMillis += podCPU(wr.Workload)
			f.Workloads = append(f.Workloads, wr.Workload.ID())
			if len(blockers) == 1 && !unknown {
				f.Unblocks++
			}
		}
	}
	out := make([]ImageFix, 0, len(order))
	for _, ref := range order {
		out = append(out, *byRef[ref])
	}
	slices.SortStableFunc(out, func(a, b ImageFix) int {
		if a.Unblocks != b.Unblocks {
			return b.Unblocks - a.Unblocks
		}
		if a.Blocks != b.Blocks {
			return b.Blocks - a.Blocks
		}
		if a.CPUMillis != b.CPUMillis {
			return cmp.Compare(b.CPUMillis, a.CPUMillis)
		}
		return strings.Compare(a.Ref, b.Ref)
	})
	return out
}

// podCPU is the CPU a workload's pod requests, as the scheduler counts
// it: the larger of the containers' sum and the largest init container's
// (sidecars, init containers that keep running, add to both).
func podCPU(w workload.Workload) int64 {
	if w.PodSpec == nil {
		return 0
	}
	var sum, sidecars, initMax int64
	for _, c := range w.PodSpec.Containers {
		sum += c.Resources.Requests.Cpu().MilliValue()
	}
	for _, c := range w.PodSpec.InitContainers {
		m := c.Resources.Requests.Cpu().MilliValue()
		if c.RestartPolicy != nil && *c.RestartPolicy == "Always" {
			sidecars += m
			continue
		}
		initMax = max(initMax, sidecars+m)
	}
	return max(sum+sidecars, initMax)
}

// cpuText is millicores as CPUs: "1.5 CPU".
func cpuText(m int64) string {
	return strconv.FormatFloat(float64(m)/1000, 'f', -1, 64) + " CPU"
}

// fixFirst is FixFirst when WithAdvice was given, else nil.
func (o options) fixFirst(r assess.Report) []ImageFix {
	if o.advice == nil {
		return nil
	}
	return FixFirst(r, o.advice)
}

// writeFixFirstTable writes the table format's images section.
func writeFixFirstTable(b *strings.Builder, fixes []ImageFix) {
	if len(fixes) == 0 {
		return
	}
	fmt.Fprintf(b, "IMAGES TO FIX FIRST (%d)\n", len(fixes))
	for i, f := range fixes {
		fmt.Fprintf(b, "  %d. %s\n", i+1, truncate(f.Ref, tableWidth-6))
		line := fmt.Sprintf("blocks %d %s, unblocks %d", f.Blocks, plural(f.Blocks, "workload"), f.Unblocks)
		if f.CPUMillis > 0 {
			line += ", " + cpuText(f.CPUMillis) + " requested"
		}
		wrap(b, "     ", line)
		if f.Advice != "" {
			wrap(b, "     advice: ", f.Advice)
		}
	}
	b.WriteString("\n")
}

// writeFixFirstMarkdown writes the Markdown format's images section.
func writeFixFirstMarkdown(b *strings.Builder, fixes []ImageFix) {
	if len(fixes) == 0 {
		return
	}
	b.WriteString("### Images to fix first\n\n| # | Image | Blocks | Unblocks | CPU requested | Advice |\n|---|---|---|---|---|---|\n")
	for i, f := range fixes {
		cpu := "-"
		if f.CPUMillis > 0 {
			cpu = cpuText(f.CPUMillis)
		}
		fmt.Fprintf(b, "| %d | %s | %d | %d | %s | %s |\n", i+1, mdCode(f.Ref), f.Blocks, f.Unblocks, cpu, mdCell(f.Advice))
	}
	b.WriteString("\n")
}
