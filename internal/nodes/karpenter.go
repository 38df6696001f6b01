package nodes

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// Karpenter's well-known requirement keys that decide the architecture.
const (
	keyInstanceFamily  = "karpenter.k8s.aws/instance-family"
	keyCPUManufacturer = "karpenter.k8s.aws/cpu-manufacturer"
)

// bothArchs are the architectures Karpenter on AWS launches.
var bothArchs = []string{"amd64", "arm64"}

// nodePool is the part of a Karpenter v1 NodePool archway reads.
type nodePool struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				NodeClassRef struct {
					Kind string `json:"kind"`
					Name string `json:"name"`
				} `json:"nodeClassRef"`
				Requirements  []corev1.NodeSelectorRequirement `json:"requirements"`
				Taints        []corev1.Taint                   `json:"taints"`
				StartupTaints []corev1.Taint                   `json:"startupTaints"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// ec2NodeClass is the part of a Karpenter EC2NodeClass archway reads.
type ec2NodeClass struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		AMIFamily        string `json:"amiFamily"`
		AMISelectorTerms []struct {
			Alias string            `json:"alias"`
			ID    string            `json:"id"`
			Name  string            `json:"name"`
			Tags  map[string]string `json:"tags"`
		} `json:"amiSelectorTerms"`
	} `json:"spec"`
}

// karpenterDocs collects NodePools and EC2NodeClasses across inputs: a
// NodePool's AMIs are those of the EC2NodeClass it names, wherever that is.
type karpenterDocs struct {
	pools   []nodePool
	sources []string
	classes map[string]ec2NodeClass
}

func (k *karpenterDocs) add(src, kind string, doc []byte) error {
	switch kind {
	case "NodePool":
		var p nodePool
		if err := sigsyaml.Unmarshal(doc, &p); err != nil {
			return fmt.Errorf("%s: NodePool: %w", src, err)
		}
		k.pools = append(k.pools, p)
		k.sources = append(k.sources, src)
	case "EC2NodeClass":
		var c ec2NodeClass
		if err := sigsyaml.Unmarshal(doc, &c); err != nil {
			return fmt.Errorf("%s: EC2NodeClass: %w", src, err)
		}
		if k.classes == nil {
			k.classes = map[string]ec2NodeClass{}
		}
		k.classes[c.Metadata.Name] = c
	}
	return nil
}

// groups turns the NodePools into groups.
func (k *karpenterDocs) groups() []Group {
	var out []Group
	for i, p := range k.pools {
		s := p.Spec.Template.Spec
		g := Group{
			Name: p.Metadata.Name, Kind: KindNodePool, Source: k.sources[i],
			Labels: p.Spec.Template.Metadata.Labels, TaintsKnown: true,
			Requirements: s.Requirements, StartupTaints: s.StartupTaints,
		}
		for _, t := range s.Taints {
			g.addTaint(t, "NodePool taints")
		}
		g.RequirementArchs, g.ArchEvidence, g.UnknownTypes = requirementArchs(s.Requirements)
		g.Archs = g.RequirementArchs
		if c, ok := k.classes[s.NodeClassRef.Name]; ok {
			g.AMIArchs, g.AMIEvidence = amiArchs(c)
		} else {
			g.AMIEvidence = []string{fmt.Sprintf("EC2NodeClass %q not among the inputs: AMI architectures unknown", s.NodeClassRef.Name)}
		}
		if g.AMIArchs != nil {
			g.Archs = intersect(g.RequirementArchs, g.AMIArchs)
		}
		out = append(out, g)
	}
	return out
}

// requirementArchs returns the architectures a NodePool's requirements
// allow (both, when nothing constrains them), how each constraint was
// read, and the instance families or types of unknown architecture.
func requirementArchs(reqs []corev1.NodeSelectorRequirement) (archs, evidence, unknown []string) {
	archs = slices.Clone(bothArchs)
	for _, r := range reqs {
		if r.Operator != corev1.NodeSelectorOpIn && !(r.Key == corev1.LabelArchStable && r.Operator == corev1.NodeSelectorOpNotIn) {
			continue
		}
		var allowed []string
		switch r.Key {
		case corev1.LabelArchStable:
			if r.Operator == corev1.NodeSelectorOpNotIn {
				allowed = slices.DeleteFunc(slices.Clone(bothArchs), func(a string) bool { return slices.Contains(r.Values, a) })
			} else {
				allowed = r.Values
			}
		case keyInstanceFamily, corev1.LabelInstanceTypeStable:
			var unk []string
			allowed, unk = archsOf(r.Values)
			unknown = append(unknown, unk...)
			if len(unk) > 0 {
				// An unknown family may be either: do not narrow on it.
				allowed = slices.Clone(bothArchs)
			}
		case keyCPUManufacturer:
			for _, v := range r.Values {
				switch strings.ToLower(v) {
				case "aws", "nvidia", "ampere":
					allowed = appendNew(allowed, "arm64")
				case "intel", "amd":
					allowed = appendNew(allowed, "amd64")
				}
			}
		default:
			continue
		}
		archs = intersect(archs, allowed)
		evidence = append(evidence, fmt.Sprintf("requirement %s %s %v → %v", r.Key, r.Operator, r.Values, archs))
	}
	if len(evidence) == 0 {
		evidence = []string{"no requirement constrains the architecture: Karpenter launches amd64 and arm64"}
	}
	return archs, evidence, unknown
}

// amiArchs returns the architectures an EC2NodeClass's AMIs serve; nil
// when they cannot be told offline (AMI ids, names or tags without an
// architecture in them).
func amiArchs(c ec2NodeClass) ([]string, []string) {
	var archs, evidence []string
	for _, t := range c.Spec.AMISelectorTerms {
		switch {
		case t.Alias != "":
			family, _, _ := strings.Cut(t.Alias, "@")
			if strings.HasPrefix(strings.ToLower(family), "windows") {
				archs = appendNew(archs, "amd64")
				evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s alias %s: Windows AMIs are amd64 only", c.Metadata.Name, t.Alias))
				continue
			}
			archs = appendNew(archs, bothArchs...)
			evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s alias %s: Karpenter resolves it for amd64 and arm64", c.Metadata.Name, t.Alias))
		default:
			hint := t.Name + " " + t.ID
			for _, v := range t.Tags {
				hint += " " + v
			}
			a := archHint(hint)
			if a == "" {
				evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s amiSelectorTerms %s: architecture unknown offline (Karpenter reads it from each AMI)", c.Metadata.Name, strings.TrimSpace(hint)))
				return nil, evidence
			}
			archs = appendNew(archs, a)
			evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s amiSelectorTerms %s: the name says %s", c.Metadata.Name, strings.TrimSpace(hint), a))
		}
	}
	if len(c.Spec.AMISelectorTerms) == 0 {
		return nil, []string{fmt.Sprintf("EC2NodeClass %s has no amiSelectorTerms", c.Metadata.Name)}
	}
	slices.Sort(archs)
	return archs, evidence
}

// archHint finds an architecture written in an AMI name.
func archHint(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "arm64") || strings.Contains(l, "aarch64"):
		return "arm64"
	case strings.Contains(l, "x86_64") || strings.Contains(l, "amd64") || strings.Contains(l, "x86-64"):
		return "amd64"
	}
	return ""
}

func appendNew(list []string, items ...string) []string {
	for _, x := range items {
		if !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
