package assess

import (
	"cmp"
	"slices"

	"github.com/archwaydev/archway/internal/workload"
)

// Counts counts verdicts. For images and containers, Ready counts the
// Supported ones and NotReady the Unsupported ones.
type Counts struct {
	Total    int
	Ready    int
	NotReady int
	Unknown  int
	// Pinned and CouldMove count pinned workloads and those that could
	// move to the target; zero for images.
	Pinned    int
	CouldMove int
}

// Of returns the count of verdict v.
func (c Counts) Of(v Verdict) int {
	switch workloadVerdict(v) {
	case Ready:
		return c.Ready
	case NotReady:
		return c.NotReady
	case Unknown:
		return c.Unknown
	}
	return 0
}

// Percent returns the share of verdict v in percent (0 to 100); 0 when
// there is nothing to count.
func (c Counts) Percent(v Verdict) float64 {
	if c.Total == 0 {
		return 0
	}
	return 100 * float64(c.Of(v)) / float64(c.Total)
}

func (c *Counts) add(v Verdict) {
	c.Total++
	switch workloadVerdict(v) {
	case Ready:
		c.Ready++
	case NotReady:
		c.NotReady++
	case Unknown:
		c.Unknown++
	}
}

// Group is the counts of the workloads sharing a key.
type Group struct {
	// Key is the namespace or source kind; the empty namespace is "".
	Key string
	Counts
}

// Summary counts the verdicts of a report.
type Summary struct {
	// Workloads counts workload verdicts.
	Workloads Counts
	// Containers counts the verdicts of containers that count (build
	// containers excluded).
	Containers Counts
	// Images counts distinct images used by a container that counts.
	Images Counts
	// ByNamespace and BySource count workload verdicts per namespace and
	// per source kind, sorted by key.
	ByNamespace []Group
	BySource    []Group
}

func summarize(wrs []WorkloadResult, images []ImageVerdict) Summary {
	var s Summary
	ns := map[string]*Counts{}
	src := map[string]*Counts{}
	for _, wr := range wrs {
		s.Workloads.add(wr.Verdict)
		groupAdd(ns, wr.Workload.Namespace, wr)
		groupAdd(src, string(wr.Workload.Source), wr)
		if wr.Pinned {
			s.Workloads.Pinned++
		}
		if wr.CouldMove {
			s.Workloads.CouldMove++
		}
		for _, cr := range wr.Containers {
			if !cr.Build {
				s.Containers.add(cr.Verdict)
			}
		}
	}
	for _, iv := range images {
		if !iv.BuildOnly {
			s.Images.add(iv.Verdict)
		}
	}
	s.ByNamespace = groups(ns)
	s.BySource = groups(src)
	return s
}

func groupAdd(m map[string]*Counts, key string, wr WorkloadResult) {
	c, ok := m[key]
	if !ok {
		c = &Counts{}
		m[key] = c
	}
	c.add(wr.Verdict)
	if wr.Pinned {
		c.Pinned++
	}
	if wr.CouldMove {
		c.CouldMove++
	}
}

func groups(m map[string]*Counts) []Group {
	out := make([]Group, 0, len(m))
	for k, c := range m {
		out = append(out, Group{Key: k, Counts: *c})
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Counted reports whether a container of kind k decides its workload's
// verdict: every kind does except build containers.
func Counted(k workload.ContainerKind) bool { return k != workload.ContainerBuild }
