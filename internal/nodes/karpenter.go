package nodes

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
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
	images  []ec2Image
}

// ec2Image is one image of `aws ec2 describe-images` output.
type ec2Image struct {
	ImageID      string `json:"ImageId"`
	Name         string `json:"Name"`
	Architecture string `json:"Architecture"`
	Tags         []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

// matches reports whether the image is one an amiSelectorTerm selects:
// all of its id, name (with * wildcards) and tags (value * for any) match.
func (im ec2Image) matches(id, name string, tags map[string]string) bool {
	if id != "" && id != im.ImageID {
		return false
	}
	if name != "" {
		if ok, err := path.Match(name, im.Name); err != nil || !ok {
			return false
		}
	}
	for k, v := range tags {
		found := false
		for _, t := range im.Tags {
			if t.Key == k {
				found = v == "*" || v == t.Value
			}
		}
		if !found {
			return false
		}
	}
	return id != "" || name != "" || len(tags) > 0
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

// addImages reads `aws ec2 describe-images` output.
func (k *karpenterDocs) addImages(src string, data []byte) error {
	var d struct {
		Images []ec2Image `json:"Images"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%s: describe-images: %w", src, err)
	}
	k.images = append(k.images, d.Images...)
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
			g.AMIArchs, g.AMIEvidence = amiArchs(c, k.images)
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
		archNotIn := r.Key == corev1.LabelArchStable && r.Operator == corev1.NodeSelectorOpNotIn
		if r.Operator != corev1.NodeSelectorOpIn && !archNotIn {
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

// amiArchs returns the architectures an EC2NodeClass's AMIs serve: aliases
// serve both (Windows amd64 only); other terms those of the images they
// select among describe-images output, else the architecture their name
// spells. nil when that cannot be told.
func amiArchs(c ec2NodeClass, images []ec2Image) ([]string, []string) {
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
			var found []string
			for _, im := range images {
				if im.matches(t.ID, t.Name, t.Tags) {
					a := normArch(im.Architecture)
					found = appendNew(found, a)
					evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s selects %s (%s): %s", c.Metadata.Name, im.ImageID, im.Name, a))
				}
			}
			if len(found) > 0 {
				archs = appendNew(archs, found...)
				continue
			}
			hint := t.Name + " " + t.ID
			for _, k := range slices.Sorted(maps.Keys(t.Tags)) {
				hint += " " + k + "=" + t.Tags[k]
			}
			a := archHint(hint)
			if a == "" {
				evidence = append(evidence, fmt.Sprintf("EC2NodeClass %s amiSelectorTerms %s: architecture unknown offline (Karpenter reads it from each AMI; give aws ec2 describe-images output as an input)", c.Metadata.Name, strings.TrimSpace(hint)))
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
