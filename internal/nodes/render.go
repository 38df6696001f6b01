package nodes

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/archwaydev/archway/internal/placement"
)

// Report is what `archway nodes` shows: the groups, the findings, and
// where each workload can land (when workloads were given).
type Report struct {
	Groups    []Group       `json:"groups"`
	Findings  []Finding     `json:"findings"`
	Workloads []WorkloadFit `json:"workloads,omitempty"`
}

// NewReport checks the groups, fits the workloads (none: no fit section)
// and returns the report with its findings sorted.
func NewReport(groups []Group, opts Options, workloads []WorkloadFit) Report {
	fs := append(Check(groups, opts), FitFindings(workloads)...)
	Sort(fs)
	return Report{Groups: groups, Findings: fs, Workloads: workloads}
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people: a table of groups, the findings
// with their evidence and fix, and a table of workloads.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "GROUP\tKIND\tARCH\tTAINTS\tINSTANCE TYPES\tSOURCE\n")
	for _, g := range r.Groups {
		archs := strings.Join(g.Archs, ",")
		if len(g.UnknownTypes) > 0 {
			archs = strings.TrimPrefix(archs+",unknown", ",")
		}
		var taints []string
		for _, t := range g.Taints {
			taints = append(taints, placement.FormatTaint(t))
		}
		if !g.TaintsKnown {
			taints = []string{"(not known)"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.Name, g.Kind, dash(archs), dash(strings.Join(taints, ",")), dash(strings.Join(g.InstanceTypes, ",")), g.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Workloads) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "WORKLOAD\tIMAGE ARCHS\tLANDS ON\tWRONG ARCH\tMISSES ARM\n")
		for _, f := range r.Workloads {
			archs := strings.Join(f.Archs, ",")
			if f.Archs == nil {
				archs = "unknown"
			}
			lands := strings.Join(f.CanLand, ",")
			if f.FitsNone {
				lands = "NO GROUP"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Workload, dash(archs), dash(lands), dash(strings.Join(f.WrongArch, ",")), dash(strings.Join(f.MissesArm, ",")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(r.Findings) == 0 {
		_, err := fmt.Fprintln(w, "No findings.")
		return err
	}
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
		subject := f.Group
		if f.Workload != "" {
			subject = f.Workload
			if f.Group != "" {
				subject += " on " + f.Group
			}
		}
		fmt.Fprintf(w, "%s [%s] %s: %s\n", strings.ToUpper(string(f.Severity)), f.Rule, subject, f.Message)
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "    evidence: %s\n", e)
		}
		fmt.Fprintf(w, "    fix: %s\n", f.Fix)
	}
	_, err := fmt.Fprintf(w, "\n%d findings: %d error, %d warning, %d unknown\n", len(r.Findings), counts[SeverityError], counts[SeverityWarning], counts[SeverityUnknown])
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteTagPlans writes tag plans for people: the JSON input of `aws
// autoscaling create-or-update-tags`, the tags to delete, then each
// group's snippets and notes.
func WriteTagPlans(w io.Writer, plans []TagPlan) error {
	if len(plans) == 0 {
		_, err := fmt.Fprintln(w, "Every group's tags already say what its nodes are.")
		return err
	}
	fmt.Fprintln(w, "# Tags to add: save as tags.json, then run")
	fmt.Fprintln(w, "#   aws autoscaling create-or-update-tags --cli-input-json file://tags.json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(CreateOrUpdateTags(plans)); err != nil {
		return err
	}
	for _, p := range plans {
		if strings.HasPrefix(p.ASG, PlaceholderPrefix) {
			fmt.Fprintf(w, "# ResourceId %s… stands for a group's ASG, whose name the inputs do not give: replace it (aws autoscaling describe-auto-scaling-groups), or give describe-tags output as an input\n", PlaceholderPrefix)
			break
		}
	}
	for _, p := range plans {
		for _, k := range p.Remove {
			fmt.Fprintf(w, "# Remove from %s: aws autoscaling delete-tags --tags ResourceId=%s,ResourceType=auto-scaling-group,Key=%s\n", p.Group, p.ASG, k)
		}
	}
	for _, p := range plans {
		for _, s := range []struct{ what, text string }{
			{"eksctl ClusterConfig", p.Eksctl},
			{"AL2023 NodeConfig (overrideBootstrapCommand)", p.NodeConfig},
			{"Karpenter NodePool", p.Karpenter},
		} {
			if s.text != "" {
				fmt.Fprintf(w, "\n# %s for %s:\n%s", s.what, p.Group, s.text)
			}
		}
		for _, n := range p.Notes {
			fmt.Fprintf(w, "\n# Note (%s): %s\n", p.Group, n)
		}
	}
	return nil
}
