package nodes

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/workload"
)

// Images maps image references to what the registry said about them.
type Images map[string]placement.ImageSupport

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
	// Why says what keeps the pods off when Schedules is false.
	Why string `json:"why,omitempty"`
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
}

// Fit predicts, for every Kubernetes-shaped workload (one with a pod
// spec), where its pods can land among the groups' template nodes (see
// Group.Templates) and whether its images run there. images must hold
// every image of the workloads; a missing one counts as unknown. Pure.
func Fit(workloads []workload.Workload, groups []Group, images Images) []WorkloadFit {
	type node struct {
		group   string
		armOnly bool // the group's nodes are all arm64
		n       corev1.Node
	}
	var nodes []node
	for _, g := range groups {
		for _, n := range g.Templates() {
			nodes = append(nodes, node{g.Name, slices.Equal(g.Archs, []string{"arm64"}), n})
		}
	}
	var out []WorkloadFit
	for _, w := range workloads {
		if w.PodSpec == nil {
			continue
		}
		f := WorkloadFit{Workload: w.ID(), Location: w.Location, CanLand: []string{}}
		f.Archs, f.Unknown = imageArchs(w, images)
		pod := &corev1.Pod{Spec: *w.PodSpec}
		affinity := nodeaffinity.GetRequiredNodeAffinity(pod)

		for _, nd := range nodes {
			l := Landing{Group: nd.group, Node: nd.n.Name, Arch: nodeArch(&nd.n), Runs: RunsUnknown, Schedules: true}
			if f.Archs != nil {
				l.Runs = RunsNo
				if slices.Contains(f.Archs, l.Arch) {
					l.Runs = RunsYes
				}
			}
			if ok, err := affinity.Match(&nd.n); err != nil || !ok {
				l.Schedules, l.Why = false, "nodeSelector or required node affinity"
				if err != nil {
					l.Why += ": " + err.Error()
				}
			} else if t, bad := untolerated(&nd.n, pod.Spec.Tolerations); bad {
				l.Schedules, l.Why = false, "taint "+placement.FormatTaint(t)+" not tolerated"
				if nd.armOnly && l.Runs == RunsYes {
					f.MissesArm = appendNew(f.MissesArm, nd.group)
				}
			}
			switch {
			case l.Schedules && l.Runs == RunsYes:
				f.CanLand = appendNew(f.CanLand, nd.group)
			case l.Schedules && l.Runs == RunsNo:
				f.WrongArch = appendNew(f.WrongArch, nd.group)
			}
			f.Landings = append(f.Landings, l)
		}
		f.FitsNone = !slices.ContainsFunc(f.Landings, func(l Landing) bool { return l.Schedules && l.Runs != RunsNo })
		out = append(out, f)
	}
	return out
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
			archs = slices.Clone(s.Architectures)
		} else {
			archs = intersect(archs, s.Architectures)
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
				Rule: "workload-fits-no-group", Severity: SeverityError, Workload: f.Workload,
				Message:  "fits no group: no group both admits its pods and runs its images, so they stay Pending (and the autoscaler cannot help)",
				Evidence: ev,
				Fix:      "add a group of an architecture its images support that its constraints and tolerations admit, or change the constraints",
			})
		}
		for _, g := range f.MissesArm {
			taint := ""
			for _, l := range f.Landings {
				if l.Group == g && l.Arch == "arm64" {
					taint = strings.TrimSuffix(strings.TrimPrefix(l.Why, "taint "), " not tolerated")
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
