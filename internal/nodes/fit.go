package nodes

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/workload"
)

// Images maps image references to what their lookups found.
type Images map[string]lookup.Result

// Runs says whether a workload's images run on an architecture.
type Runs string

// The three answers.
const (
	RunsYes     Runs = "yes"
	RunsNo      Runs = "no"
	RunsUnknown Runs = "unknown"
)

// Landing is one group's node of one architecture, seen from a workload.
type Landing struct {
	// Group, Node and Arch name the node: its group, its name (a template's
	// is GROUP-ARCH) and its architecture.
	Group string `json:"group"`
	Node  string `json:"node"`
	Arch  string `json:"arch"`
	// Schedules is true when kube-scheduler may bind the workload's pods
	// there: the node passes the pod's nodeSelector and required node
	// affinity, and the pod tolerates every NoSchedule and NoExecute taint.
	Schedules bool `json:"schedules"`
	// Why says what keeps the pods off when Schedules is false; Taint is
	// the taint not tolerated, when that is why.
	Why   string `json:"why,omitempty"`
	Taint string `json:"taint,omitempty"`
	// Runs says whether every container's image runs on Arch.
	Runs Runs `json:"runs"`
}

// WorkloadFit is where one workload can land.
type WorkloadFit struct {
	// Workload is the workload's ID (kind/namespace/name); Location where
	// it is defined.
	Workload string            `json:"workload"`
	Location workload.Location `json:"location"`
	// Archs are the architectures every container's image supports, nil
	// when an image is unknown (Unknown then says which and why).
	Archs   []string `json:"archs"`
	Unknown string   `json:"unknown,omitempty"`
	// Landings are the workload against each group node.
	Landings []Landing `json:"landings"`
	// CanLand are the groups its pods schedule on and run on.
	CanLand []string `json:"canLand"`
	// WrongArch are the groups its pods can be scheduled on but cannot run
	// on ("can land on a node it cannot run on").
	WrongArch []string `json:"wrongArch,omitempty"`
	// FitsNone is true when no group both takes and runs the pods.
	FitsNone bool `json:"fitsNone"`
	// MissesArm are the arm64 groups it would run on but whose taint it
	// does not tolerate (it never uses those cheaper nodes).
	MissesArm []string `json:"missesArm,omitempty"`
	// Unconsidered are the groups of unknown architecture, left out (a
	// group known to launch nothing is left out silently).
	Unconsidered []string `json:"unconsidered,omitempty"`
}

// Fit predicts, for every Kubernetes-shaped workload (one with a pod
// spec), where its pods can land among the groups' template nodes (see
// Group.Templates) and whether its images run there. A Karpenter node takes,
// for a label the pod selects, a value the NodePool allows (Karpenter
// launches a matching instance type). Groups of unknown architecture are
// left out and listed. images must hold every image of the workloads; a
// missing one counts as unknown. Pure.
func Fit(workloads []workload.Workload, groups []Group, images Images) []WorkloadFit {
	type node struct {
		group   *Group
		armOnly bool // the group's nodes are all arm64
		n       corev1.Node
	}
	var nodes []node
	var unconsidered []string
	for i, g := range groups {
		templates := g.Templates()
		if len(templates) == 0 && len(g.UnknownTypes) > 0 {
			unconsidered = append(unconsidered, g.Name)
		}
		for _, n := range templates {
			nodes = append(nodes, node{&groups[i], slices.Equal(g.Archs, []string{"arm64"}), n})
		}
	}
	var out []WorkloadFit
	for _, w := range workloads {
		if w.PodSpec == nil {
			continue
		}
		f := WorkloadFit{Workload: w.ID(), Location: w.Location, CanLand: []string{}, Unconsidered: unconsidered}
		f.Archs, f.Unknown = imageArchs(w, images)
		pod := &corev1.Pod{Spec: *w.PodSpec}
		affinity := nodeaffinity.GetRequiredNodeAffinity(pod)

		for _, nd := range nodes {
			n := &nd.n
			if nd.group.Kind == KindNodePool {
				n = karpenterNode(n, nd.group.Requirements, pod.Spec)
			}
			group := nd.group.Name
			l := Landing{Group: group, Node: n.Name, Arch: NodeArch(n), Runs: RunsUnknown, Schedules: true}
			if f.Archs != nil {
				l.Runs = RunsNo
				if slices.Contains(f.Archs, l.Arch) {
					l.Runs = RunsYes
				}
			}
			if ok, err := affinity.Match(n); err != nil || !ok {
				l.Schedules, l.Why = false, "nodeSelector or required node affinity"
				if err != nil {
					l.Why += ": " + err.Error()
				}
			} else if t, bad := untolerated(n, pod.Spec.Tolerations); bad {
				l.Taint = placement.FormatTaint(t)
				l.Schedules, l.Why = false, "taint "+l.Taint+" not tolerated"
				if nd.armOnly && l.Runs == RunsYes {
					f.MissesArm = appendNew(f.MissesArm, group)
				}
			}
			switch {
			case l.Schedules && l.Runs == RunsYes:
				f.CanLand = appendNew(f.CanLand, group)
			case l.Schedules && l.Runs == RunsNo:
				f.WrongArch = appendNew(f.WrongArch, group)
			}
			f.Landings = append(f.Landings, l)
		}
		f.FitsNone = !slices.ContainsFunc(f.Landings, func(l Landing) bool { return l.Schedules && l.Runs != RunsNo })
		out = append(out, f)
	}
	return out
}

// karpenterLabels are labels Karpenter sets on a node from the instance
// type and offering it picks, so a pod may select any value the NodePool
// does not exclude.
var karpenterLabels = []string{
	corev1.LabelInstanceTypeStable, keyInstanceFamily, keyCPUManufacturer,
	"karpenter.k8s.aws/instance-category", "karpenter.k8s.aws/instance-generation",
	"karpenter.sh/capacity-type", corev1.LabelTopologyZone,
}

// karpenterNode returns the node Karpenter would launch from template n
// for a pod: each label the pod asks for (nodeSelector, In expressions)
// that the template leaves open is set to the first wanted value the
// NodePool's requirements allow, an instance type or family only when it
// has the template's architecture.
func karpenterNode(n *corev1.Node, reqs []corev1.NodeSelectorRequirement, spec corev1.PodSpec) *corev1.Node {
	wants := map[string][]string{}
	for k, v := range spec.NodeSelector {
		wants[k] = append(wants[k], v)
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				if e.Operator == corev1.NodeSelectorOpIn {
					wants[e.Key] = append(wants[e.Key], e.Values...)
				}
			}
		}
	}
	out := n.DeepCopy()
	arch := NodeArch(n)
	for _, key := range slices.Sorted(maps.Keys(wants)) {
		if _, fixed := out.Labels[key]; fixed {
			continue
		}
		allowed, constrained := requirementAllows(reqs, key)
		if !constrained && !slices.Contains(karpenterLabels, key) {
			continue
		}
		for _, v := range wants[key] {
			if !allowed(v) {
				continue
			}
			if key == corev1.LabelInstanceTypeStable || key == keyInstanceFamily {
				if a, ok := Arch(v); !ok || a != arch {
					continue
				}
			}
			out.Labels[key] = v
			break
		}
	}
	return out
}

// requirementAllows returns a test of the values a NodePool's requirements
// allow for key, and whether they mention key at all.
func requirementAllows(reqs []corev1.NodeSelectorRequirement, key string) (func(string) bool, bool) {
	var tests []func(string) bool
	for _, r := range reqs {
		if r.Key != key {
			continue
		}
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			tests = append(tests, func(v string) bool { return slices.Contains(r.Values, v) })
		case corev1.NodeSelectorOpNotIn:
			tests = append(tests, func(v string) bool { return !slices.Contains(r.Values, v) })
		case corev1.NodeSelectorOpDoesNotExist:
			tests = append(tests, func(string) bool { return false })
		}
	}
	return func(v string) bool {
		for _, t := range tests {
			if !t(v) {
				return false
			}
		}
		return true
	}, len(tests) > 0
}

// untolerated returns the first NoSchedule or NoExecute taint of n that
// tolerations do not tolerate, as kube-scheduler's TaintToleration filter
// finds it.
func untolerated(n *corev1.Node, tolerations []corev1.Toleration) (corev1.Taint, bool) {
	return corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), n.Spec.Taints, tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, false)
}

// imageArchs returns the architectures every container's image supports,
// or nil and the first unknown image with its cause.
func imageArchs(w workload.Workload, images Images) ([]string, string) {
	var archs []string
	for i, ref := range w.Images() {
		s, ok := images[ref]
		switch {
		case !ok:
			return nil, ref + ": not looked up"
		case s.Err != nil:
			return nil, ref + ": " + s.Err.Error()
		}
		if i == 0 {
			archs = s.Platforms().Architectures()
		} else {
			archs = intersect(archs, s.Platforms().Architectures())
		}
	}
	if archs == nil {
		archs = []string{}
	}
	slices.Sort(archs)
	return archs, ""
}

// FitFindings turns fits into findings: a workload that can land on a node
// it cannot run on, one that fits no group (both errors), one that never
// uses arm64 groups it could run on (warning), one whose images are
// unknown.
func FitFindings(fits []WorkloadFit) []Finding {
	var out []Finding
	for _, f := range fits {
		if f.Unknown != "" {
			out = append(out, Finding{
				Rule: "workload-image-unknown", Severity: SeverityUnknown, Workload: f.Workload,
				Message:  "which groups can run this workload is unknown: an image lookup failed",
				Evidence: []string{f.Unknown},
				Fix:      "make the image reachable (registry flags, credentials) and run again",
			})
		}
		for _, g := range f.WrongArch {
			arch := landingArchs(f, g, func(l Landing) bool { return l.Schedules && l.Runs == RunsNo })
			out = append(out, Finding{
				Rule: "workload-wrong-arch", Severity: SeverityError, Group: g, Workload: f.Workload,
				Message:  fmt.Sprintf("can land on a node it cannot run on: its pods may be scheduled onto %s's %s nodes, where its images (%s only) fail with exec format error", g, arch, strings.Join(f.Archs, ", ")),
				Evidence: []string{"image architectures: " + strings.Join(f.Archs, ", "), g + ": " + arch + " nodes admit the pod (no kubernetes.io/arch constraint keeps it off, no taint repels it)"},
				Fix:      fmt.Sprintf("require kubernetes.io/arch In [%s] (archway place writes it), or taint %s's nodes", strings.Join(f.Archs, ", "), g),
			})
		}
		if f.FitsNone {
			sev, msg := SeverityError, "fits no group: no group both admits its pods and runs its images, so they stay Pending or land where they crash (and the autoscaler cannot help)"
			if len(f.Unconsidered) > 0 {
				sev, msg = SeverityUnknown, "fits none of the groups of known architecture; whether it fits "+strings.Join(f.Unconsidered, ", ")+" (architecture unknown) cannot be told"
			}
			var ev []string
			for _, l := range f.Landings {
				why := l.Why
				if l.Schedules {
					why = "images do not run on " + l.Arch
				}
				ev = append(ev, fmt.Sprintf("%s (%s): %s", l.Group, l.Arch, why))
			}
			if len(ev) == 0 {
				ev = []string{"no group with a known architecture"}
			}
			out = append(out, Finding{
				Rule: "workload-fits-no-group", Severity: sev, Workload: f.Workload,
				Message:  msg,
				Evidence: ev,
				Fix:      "add a group of an architecture its images support that its constraints and tolerations admit, or change the constraints",
			})
		}
		for _, g := range f.MissesArm {
			taint := ""
			for _, l := range f.Landings {
				if l.Group == g && l.Taint != "" {
					taint = l.Taint
				}
			}
			out = append(out, Finding{
				Rule: "workload-misses-arm", Severity: SeverityWarning, Group: g, Workload: f.Workload,
				Message:  fmt.Sprintf("its images all run on arm64 but it does not tolerate %s's taint %s: it never uses the cheaper arm64 nodes", g, taint),
				Evidence: []string{"image architectures: " + strings.Join(f.Archs, ", "), g + ": taint " + taint},
				Fix:      "add the toleration: archway place --arm-taint=" + taint,
			})
		}
	}
	return out
}

func landingArchs(f WorkloadFit, group string, keep func(Landing) bool) string {
	var archs []string
	for _, l := range f.Landings {
		if l.Group == group && keep(l) {
			archs = appendNew(archs, l.Arch)
		}
	}
	return strings.Join(archs, ", ")
}
