package nodes

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/placement"
)

// Kind says what defines a group.
type Kind string

// The group kinds.
const (
	KindEksctlNodeGroup Kind = "eksctl-nodegroup"        // eksctl nodeGroups: a self-managed Auto Scaling group
	KindEksctlManaged   Kind = "eksctl-managednodegroup" // eksctl managedNodeGroups: an EKS managed node group
	KindASG             Kind = "asg"                     // an Auto Scaling group read from AWS CLI JSON
	KindNodePool        Kind = "karpenter-nodepool"      // a Karpenter v1 NodePool
	KindNodes           Kind = "nodes"                   // live Nodes of a cluster, grouped by their node-group label
)

// Tag key prefixes the Cluster Autoscaler (AWS) reads on an Auto Scaling
// group to build the node of a group scaled to zero.
const (
	LabelTagPrefix = "k8s.io/cluster-autoscaler/node-template/label/"
	TaintTagPrefix = "k8s.io/cluster-autoscaler/node-template/taint/"
)

// Group is one node group: what its nodes are (instance types and so
// architectures, labels, taints) and, for Auto Scaling groups, the tags the
// autoscaler reads.
type Group struct {
	// Name is the group's name (node group, ASG, NodePool or node-group label).
	Name string `json:"name"`
	// Kind says what defines the group.
	Kind Kind `json:"kind"`
	// Source is where the group was read: a file, or "cluster".
	Source string `json:"source,omitempty"`
	// Managed is true for EKS managed node groups.
	Managed bool `json:"managed,omitempty"`
	// ASGName is the Auto Scaling group's name when known.
	ASGName string `json:"asgName,omitempty"`

	// InstanceTypes are the instance types the group launches, the one the
	// Cluster Autoscaler templates from first.
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// Archs are the architectures the group's nodes can have, sorted.
	Archs []string `json:"archs,omitempty"`
	// ArchEvidence says where each architecture came from.
	ArchEvidence []string `json:"archEvidence,omitempty"`
	// UnknownTypes are instance types (or families) whose architecture the
	// data does not know.
	UnknownTypes []string `json:"unknownTypes,omitempty"`

	// Labels are the labels the group's nodes register with.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are the taints the group's nodes register with (eksctl taints,
	// kubelet --register-with-taints, NodeConfig, Karpenter taints).
	Taints []corev1.Taint `json:"taints,omitempty"`
	// TaintsKnown is false when the input does not say which taints the
	// nodes have (an ASG read from tags alone).
	TaintsKnown bool `json:"taintsKnown"`
	// TaintEvidence says where each taint came from.
	TaintEvidence []string `json:"taintEvidence,omitempty"`
	// StartupTaints are Karpenter startup taints (need not be tolerated).
	StartupTaints []corev1.Taint `json:"startupTaints,omitempty"`

	// Tags are the Auto Scaling group's tags, read or (for eksctl)
	// predicted from the config; nil when the group has no ASG tags.
	Tags map[string]string `json:"tags,omitempty"`
	// TagsPredicted is true when Tags were derived from an eksctl config
	// rather than read from AWS.
	TagsPredicted bool `json:"tagsPredicted,omitempty"`
	// PropagateASGTags is eksctl's propagateASGTags.
	PropagateASGTags bool `json:"propagateASGTags,omitempty"`

	// Requirements are a Karpenter NodePool's requirements.
	Requirements []corev1.NodeSelectorRequirement `json:"requirements,omitempty"`
	// RequirementArchs are the architectures a NodePool's requirements
	// allow; AMIArchs those its EC2NodeClass's AMIs serve (nil: unknown).
	RequirementArchs []string `json:"requirementArchs,omitempty"`
	AMIArchs         []string `json:"amiArchs,omitempty"`
	// AMIEvidence says how the AMI architectures were found.
	AMIEvidence []string `json:"amiEvidence,omitempty"`

	// Nodes are the live nodes of a KindNodes group.
	Nodes []corev1.Node `json:"-"`
}

// HasASG reports whether the group is an Auto Scaling group the Cluster
// Autoscaler reads tags from.
func (g Group) HasASG() bool {
	return g.Kind == KindEksctlNodeGroup || g.Kind == KindEksctlManaged || g.Kind == KindASG
}

// Templates returns one node per architecture of the group, labelled and
// tainted as the group's nodes register: kubernetes.io/arch,
// kubernetes.io/os=linux, node.kubernetes.io/instance-type (the first type
// of that architecture), the labels the node-group tooling adds, then the
// group's labels. Live groups return their first node of each architecture.
func (g Group) Templates() []corev1.Node {
	if g.Kind == KindNodes {
		var out []corev1.Node
		seen := map[string]bool{}
		for _, n := range g.Nodes {
			a := NodeArch(&n)
			if !seen[a] {
				seen[a] = true
				out = append(out, *n.DeepCopy())
			}
		}
		return out
	}
	var out []corev1.Node
	for _, arch := range g.Archs {
		labels := map[string]string{
			corev1.LabelArchStable: arch,
			corev1.LabelOSStable:   "linux",
		}
		for _, t := range g.InstanceTypes {
			if a, ok := Arch(t); ok && a == arch && strings.Contains(t, ".") {
				labels[corev1.LabelInstanceTypeStable] = t
				break
			}
		}
		switch g.Kind {
		case KindEksctlNodeGroup:
			labels["alpha.eksctl.io/nodegroup-name"] = g.Name
		case KindEksctlManaged:
			labels["eks.amazonaws.com/nodegroup"] = g.Name
		case KindNodePool:
			labels["karpenter.sh/nodepool"] = g.Name
			for _, r := range g.Requirements {
				if r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 && r.Key != corev1.LabelArchStable {
					labels[r.Key] = r.Values[0]
				}
			}
		}
		maps.Copy(labels, g.Labels)
		labels[corev1.LabelArchStable] = arch
		n := corev1.Node{Spec: corev1.NodeSpec{Taints: slices.Clone(g.Taints)}}
		n.Name, n.Labels = g.Name+"-"+arch, labels
		out = append(out, n)
	}
	return out
}

// archsOf returns the sorted architectures of instance types and the types
// whose architecture is unknown.
func archsOf(types []string) (archs, unknown []string) {
	for _, t := range types {
		a, ok := Arch(t)
		if !ok {
			unknown = append(unknown, t)
			continue
		}
		if !slices.Contains(archs, a) {
			archs = append(archs, a)
		}
	}
	slices.Sort(archs)
	return archs, unknown
}

// setTypes records the instance types and the architectures they give.
func (g *Group) setTypes(types []string, where string) {
	g.InstanceTypes = types
	archs, unknown := archsOf(types)
	g.Archs, g.UnknownTypes = archs, unknown
	for _, t := range types {
		if a, ok := Arch(t); ok {
			g.ArchEvidence = append(g.ArchEvidence, where+" "+t+" → "+a)
		}
	}
}

// addTaint adds t unless a taint with its key and effect is there already.
func (g *Group) addTaint(t corev1.Taint, where string) {
	for _, have := range g.Taints {
		if have.Key == t.Key && have.Effect == t.Effect {
			return
		}
	}
	g.Taints = append(g.Taints, t)
	g.TaintEvidence = append(g.TaintEvidence, where+": "+placement.FormatTaint(t))
}
