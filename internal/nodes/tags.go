package nodes

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// ASGTag is one tag in the input of `aws autoscaling create-or-update-tags`.
type ASGTag struct {
	ResourceID        string `json:"ResourceId"`
	ResourceType      string `json:"ResourceType"`
	Key               string `json:"Key"`
	Value             string `json:"Value"`
	PropagateAtLaunch bool   `json:"PropagateAtLaunch"`
}

// TagPlan is what one group needs so the autoscaler sees its nodes as
// they are.
type TagPlan struct {
	// Group is the group's name.
	Group string `json:"group"`
	// Kind is the group's kind.
	Kind Kind `json:"kind"`
	// ASG is the Auto Scaling group's name, or a placeholder naming the
	// group when the name is not known (see Notes).
	ASG string `json:"asg,omitempty"`
	// Tags are the ASG tags to add or correct.
	Tags []ASGTag `json:"tags,omitempty"`
	// Remove are tag keys to delete (misspelt keys, taint tags without a taint).
	Remove []string `json:"remove,omitempty"`
	// Eksctl, NodeConfig and Karpenter are configuration snippets that make
	// the group's definition say the same (empty when not applicable).
	Eksctl     string `json:"eksctl,omitempty"`
	NodeConfig string `json:"nodeConfig,omitempty"`
	Karpenter  string `json:"karpenter,omitempty"`
	// Notes tell what the plan could not settle, e.g. an unknown ASG name.
	Notes []string `json:"notes,omitempty"`
}

// PlanTags returns, for each group, the tags its Auto Scaling group needs
// (node-template label tags for kubernetes.io/arch and the group's labels,
// taint tags value:Effect for its taints) that it lacks, and snippets for
// eksctl, AL2023 NodeConfig and Karpenter.
func PlanTags(groups []Group) []TagPlan {
	var out []TagPlan
	for _, g := range groups {
		p := TagPlan{Group: g.Name, Kind: g.Kind}
		switch g.Kind {
		case KindNodePool:
			p.Karpenter = karpenterSnippet(g)
		case KindNodes:
			continue
		default:
			p.ASG = asgPlaceholder(g)
			p.Tags = wantTags(g)
			p.Remove = removeTags(g)
			if g.Kind != KindASG {
				p.Eksctl = eksctlSnippet(g)
				p.NodeConfig = nodeConfigSnippet(g)
			}
			if len(g.Archs) != 1 {
				p.Notes = append(p.Notes, "no kubernetes.io/arch tag: the group's architecture is not one known architecture")
			}
			if n := len(g.Tags) + len(p.Tags) - len(p.Remove); n > maxASGTags {
				p.Notes = append(p.Notes, fmt.Sprintf("with these tags the ASG would carry up to %d tags, more than the %d an Auto Scaling group takes: drop some first", n, maxASGTags))
			}
		}
		if len(p.Tags) > 0 || len(p.Remove) > 0 || p.Karpenter != "" || len(p.Notes) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// CreateOrUpdateTags joins the plans' tags into the JSON input of `aws
// autoscaling create-or-update-tags --cli-input-json`.
func CreateOrUpdateTags(plans []TagPlan) map[string][]ASGTag {
	tags := []ASGTag{}
	for _, p := range plans {
		tags = append(tags, p.Tags...)
	}
	return map[string][]ASGTag{"Tags": tags}
}

// PlaceholderPrefix starts the ResourceId of a group whose ASG name is not
// known (an eksctl config read without describe-tags output).
const PlaceholderPrefix = "ASG-OF-"

func asgPlaceholder(g Group) string {
	if g.ASGName != "" {
		return g.ASGName
	}
	return PlaceholderPrefix + g.Name
}

// desiredTags are the node-template tags a group's ASG should carry.
func desiredTags(g Group) map[string]string {
	want := map[string]string{}
	if len(g.Archs) == 1 {
		want[LabelTagPrefix+corev1.LabelArchStable] = g.Archs[0]
	}
	for k, v := range g.Labels {
		want[LabelTagPrefix+k] = v
	}
	for _, t := range g.Taints {
		want[TaintTagPrefix+t.Key] = t.Value + ":" + string(t.Effect)
	}
	return want
}

// wantTags returns the desired tags the ASG lacks or has with another value.
func wantTags(g Group) []ASGTag {
	var out []ASGTag
	want := desiredTags(g)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		have, ok := g.Tags[k]
		if ok && have == want[k] {
			continue
		}
		out = append(out, ASGTag{ResourceID: asgPlaceholder(g), ResourceType: "auto-scaling-group", Key: k, Value: want[k], PropagateAtLaunch: true})
	}
	return out
}

// removeTags returns misspelt keys and taint tags for taints the nodes do
// not have (when the taints are known).
func removeTags(g Group) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
		for bad := range typoPrefixes {
			if strings.HasPrefix(k, bad) {
				out = append(out, k)
			}
		}
		if key, ok := strings.CutPrefix(k, TaintTagPrefix); ok && g.TaintsKnown {
			if _, has := taintByKey(g.Taints, key); !has {
				out = append(out, k)
			}
		}
	}
	return out
}

// eksctlSnippet is the group's eksctl entry: taints, labels and the tags
// with value:Effect, with propagateASGTags for managed groups (whose own
// tags then win over the effect-less ones eksctl generates).
func eksctlSnippet(g Group) string {
	entry := map[string]any{"name": g.Name}
	switch {
	case g.Managed:
		entry["propagateASGTags"] = true
	case g.PropagateASGTags:
		entry["propagateASGTags"] = false // it would write taint tags without the effect
	}
	if len(g.Labels) > 0 {
		entry["labels"] = g.Labels
	}
	if len(g.Taints) > 0 {
		var ts []map[string]string
		for _, t := range g.Taints {
			ts = append(ts, map[string]string{"key": t.Key, "value": t.Value, "effect": string(t.Effect)})
		}
		entry["taints"] = ts
	}
	tags := map[string]string{}
	if g.TagsPredicted {
		for k, v := range g.Tags {
			if !strings.HasPrefix(k, "k8s.io/cluster-autoscaler/node-template/") {
				tags[k] = v // the group's other tags, kept
			}
		}
	}
	maps.Copy(tags, desiredTags(g))
	if len(tags) > 0 {
		entry["tags"] = tags
	}
	if len(entry) == 1 {
		return ""
	}
	section := "nodeGroups"
	if g.Managed {
		section = "managedNodeGroups"
	}
	return marshalSnippet(map[string]any{section: []any{entry}})
}

// nodeConfigSnippet is an AL2023 NodeConfig registering the group's taints
// and labels with the kubelet.
func nodeConfigSnippet(g Group) string {
	var flags []string
	if len(g.Taints) > 0 {
		var ts []string
		for _, t := range g.Taints {
			ts = append(ts, t.Key+"="+t.Value+":"+string(t.Effect))
		}
		flags = append(flags, "--register-with-taints="+strings.Join(ts, ","))
	}
	if len(g.Labels) > 0 {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
			ls = append(ls, k+"="+g.Labels[k])
		}
		flags = append(flags, "--node-labels="+strings.Join(ls, ","))
	}
	if len(flags) == 0 {
		return ""
	}
	return marshalSnippet(map[string]any{
		"apiVersion": "node.eks.aws/v1alpha1",
		"kind":       "NodeConfig",
		"spec":       map[string]any{"kubelet": map[string]any{"flags": flags}},
	})
}

// karpenterSnippet is the NodePool's template spec with its architecture
// pinned and, when it allows arm64, its taints.
func karpenterSnippet(g Group) string {
	if len(g.Archs) < 2 {
		return ""
	}
	return marshalSnippet(map[string]any{
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"requirements": []map[string]any{{"key": corev1.LabelArchStable, "operator": "In", "values": []string{"arm64"}}},
			"taints":       []map[string]string{{"key": "arm", "value": "true", "effect": "NoSchedule"}},
		}}},
	}) + "# and a second NodePool with values: [amd64] and no taint\n"
}

func marshalSnippet(v any) string {
	b, err := sigsyaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("# %v\n", err) // plain maps of strings always marshal
	}
	return string(b)
}
