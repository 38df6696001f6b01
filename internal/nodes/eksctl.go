package nodes

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// eksctlDefaultType is the instance type eksctl gives a node group that
// names none.
const eksctlDefaultType = "m5.large"

// eksctlConfig is the part of an eksctl ClusterConfig (v1alpha5) archway reads.
type eksctlConfig struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	NodeGroups        []eksctlNodeGroup `json:"nodeGroups"`
	ManagedNodeGroups []eksctlNodeGroup `json:"managedNodeGroups"`
}

// eksctlNodeGroup holds the fields of nodeGroups[] and managedNodeGroups[]
// that say what the nodes are and which tags their ASG gets.
type eksctlNodeGroup struct {
	Name                  string   `json:"name"`
	InstanceType          string   `json:"instanceType"`
	InstanceTypes         []string `json:"instanceTypes"`
	InstancesDistribution *struct {
		InstanceTypes []string `json:"instanceTypes"`
	} `json:"instancesDistribution"`
	InstanceSelector *struct {
		CPUArchitecture string `json:"cpuArchitecture"`
	} `json:"instanceSelector"`
	AMIFamily          string            `json:"amiFamily"`
	Labels             map[string]string `json:"labels"`
	Taints             json.RawMessage   `json:"taints"`
	Tags               map[string]string `json:"tags"`
	PropagateASGTags   *bool             `json:"propagateASGTags"`
	KubeletExtraConfig *struct {
		RegisterWithTaints []corev1.Taint `json:"registerWithTaints"`
	} `json:"kubeletExtraConfig"`
	OverrideBootstrapCommand string `json:"overrideBootstrapCommand"`
}

// parseEksctl reads the node groups of an eksctl ClusterConfig.
func parseEksctl(src string, doc []byte) ([]Group, error) {
	var cfg eksctlConfig
	if err := sigsyaml.Unmarshal(doc, &cfg); err != nil {
		return nil, fmt.Errorf("%s: eksctl ClusterConfig: %w", src, err)
	}
	var out []Group
	for _, set := range []struct {
		ngs     []eksctlNodeGroup
		kind    Kind
		section string
	}{{cfg.NodeGroups, KindEksctlNodeGroup, "nodeGroups"}, {cfg.ManagedNodeGroups, KindEksctlManaged, "managedNodeGroups"}} {
		for i, ng := range set.ngs {
			g, err := ng.group(set.kind, fmt.Sprintf("%s %s[%d]", src, set.section, i))
			if err != nil {
				return nil, err
			}
			g.Source = src
			out = append(out, g)
		}
	}
	return out, nil
}

func (ng eksctlNodeGroup) group(kind Kind, where string) (Group, error) {
	g := Group{Name: ng.Name, Kind: kind, Managed: kind == KindEksctlManaged, Labels: ng.Labels, TaintsKnown: true}
	if g.Name == "" {
		return g, fmt.Errorf("%s: node group without a name", where)
	}
	var types []string
	if ng.InstanceType != "" && ng.InstanceType != "mixed" {
		types = append(types, ng.InstanceType)
	}
	types = append(types, ng.InstanceTypes...)
	if ng.InstancesDistribution != nil {
		types = append(types, ng.InstancesDistribution.InstanceTypes...)
	}
	switch {
	case len(types) > 0:
		g.setTypes(types, "instance type")
	case ng.InstanceSelector != nil:
		arch := "amd64"
		ev := "instanceSelector without cpuArchitecture (eksctl's default x86_64)"
		if a := ng.InstanceSelector.CPUArchitecture; a != "" {
			arch = normArch(a)
			ev = "instanceSelector cpuArchitecture " + a
		}
		g.Archs, g.ArchEvidence = []string{arch}, []string{ev}
	default:
		g.setTypes([]string{eksctlDefaultType}, "eksctl's default instance type")
	}

	taints, err := eksctlTaints(ng.Taints)
	if err != nil {
		return g, fmt.Errorf("%s (%s): taints: %w", where, ng.Name, err)
	}
	for _, t := range taints {
		g.addTaint(t, "eksctl taints")
	}
	if ng.KubeletExtraConfig != nil {
		for _, t := range ng.KubeletExtraConfig.RegisterWithTaints {
			g.addTaint(t, "kubeletExtraConfig registerWithTaints")
		}
	}
	boot, err := bootstrapTaints(ng.OverrideBootstrapCommand)
	if err != nil {
		return g, fmt.Errorf("%s (%s): overrideBootstrapCommand: %w", where, ng.Name, err)
	}
	for _, t := range boot.taints {
		g.addTaint(t, "overrideBootstrapCommand "+boot.how)
	}
	for k, v := range boot.labels {
		if g.Labels == nil {
			g.Labels = map[string]string{}
		}
		g.Labels[k] = v
	}

	g.PropagateASGTags = ng.PropagateASGTags != nil && *ng.PropagateASGTags
	g.Tags, g.TagsPredicted = ng.predictASGTags(kind, g.PropagateASGTags, taints), true
	return g, nil
}

// predictASGTags returns the tags eksctl puts on the group's ASG, as
// pkg/cfn/builder/nodegroup.go and pkg/cfn/manager/nodegroup.go write them:
// with propagateASGTags, a label tag per label and a taint tag per taint
// whose value is the taint's value only, without ":Effect"
// (GenerateClusterAutoscalerTags). A managed group's own tags reach its ASG
// only with propagateASGTags (and then win over the generated ones); a
// self-managed group's tags always do.
func (ng eksctlNodeGroup) predictASGTags(kind Kind, propagate bool, taints []corev1.Taint) map[string]string {
	tags := map[string]string{}
	if kind == KindEksctlNodeGroup {
		for k, v := range ng.Tags {
			tags[k] = v
		}
	}
	if propagate {
		for k, v := range ng.Labels {
			tags[LabelTagPrefix+k] = v
		}
		for _, t := range taints {
			tags[TaintTagPrefix+t.Key] = t.Value
		}
		if kind == KindEksctlManaged {
			for k, v := range ng.Tags {
				tags[k] = v
			}
		}
	}
	return tags
}

// eksctlTaints decodes eksctl's taints: a list of {key, value, effect} or
// the legacy map key: "value:Effect".
func eksctlTaints(raw json.RawMessage) ([]corev1.Taint, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []corev1.Taint
	if err := json.Unmarshal(raw, &list); err == nil {
		for i := range list {
			e, err := parseEffect(string(list[i].Effect))
			if err != nil {
				return nil, fmt.Errorf("taint %q: %w", list[i].Key, err)
			}
			list[i].Effect = e
		}
		return list, nil
	}
	var legacy map[string]string
	if err := json.Unmarshal(raw, &legacy); err != nil {
		return nil, fmt.Errorf("want a list of {key, value, effect} or a map key: value:Effect")
	}
	keys := make([]string, 0, len(legacy))
	for k := range legacy {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		value, effect, ok := strings.Cut(legacy[k], ":")
		if !ok {
			return nil, fmt.Errorf("taint %q: %q has no :Effect", k, legacy[k])
		}
		e, err := parseEffect(effect)
		if err != nil {
			return nil, fmt.Errorf("taint %q: %w", k, err)
		}
		list = append(list, corev1.Taint{Key: k, Value: value, Effect: e})
	}
	return list, nil
}

// parseEffect accepts Kubernetes effects and the EKS API's spellings.
func parseEffect(s string) (corev1.TaintEffect, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "_", "") {
	case "noschedule":
		return corev1.TaintEffectNoSchedule, nil
	case "prefernoschedule":
		return corev1.TaintEffectPreferNoSchedule, nil
	case "noexecute":
		return corev1.TaintEffectNoExecute, nil
	}
	return "", fmt.Errorf("effect %q: want NoSchedule, PreferNoSchedule or NoExecute", s)
}

// kubeletFlag finds --register-with-taints and --node-labels in a
// bootstrap script (AL2 bootstrap.sh --kubelet-extra-args) or a NodeConfig
// flags list, with "=" or a space before the value.
var kubeletFlag = regexp.MustCompile(`--(register-with-taints|node-labels)[= ]["']?([^\s'"]+)`)

// bootstrap is what a bootstrap command tells about the kubelet.
type bootstrap struct {
	how    string // "bootstrap.sh" or "NodeConfig"
	taints []corev1.Taint
	labels map[string]string
}

// bootstrapTaints reads the taints and labels an eksctl
// overrideBootstrapCommand registers the kubelet with: flags in an AL2
// script or in an AL2023 NodeConfig (spec.kubelet.flags), and a
// NodeConfig's spec.kubelet.config.registerWithTaints.
func bootstrapTaints(cmd string) (bootstrap, error) {
	b := bootstrap{how: "bootstrap.sh"}
	if cmd == "" {
		return b, nil
	}
	if strings.Contains(cmd, "kind: NodeConfig") {
		b.how = "NodeConfig"
		taints, err := nodeConfigTaints(cmd)
		if err != nil {
			return b, err
		}
		b.taints = taints
	}
	for _, m := range kubeletFlag.FindAllStringSubmatch(cmd, -1) {
		for _, item := range strings.Split(m[2], ",") {
			if item == "" {
				continue
			}
			switch m[1] {
			case "register-with-taints":
				kv, effect, ok := strings.Cut(item, ":")
				if !ok {
					return b, fmt.Errorf("--register-with-taints %q: want key=value:Effect", item)
				}
				e, err := parseEffect(effect)
				if err != nil {
					return b, fmt.Errorf("--register-with-taints %q: %w", item, err)
				}
				k, v, _ := strings.Cut(kv, "=")
				b.taints = append(b.taints, corev1.Taint{Key: k, Value: v, Effect: e})
			case "node-labels":
				k, v, _ := strings.Cut(item, "=")
				if b.labels == nil {
					b.labels = map[string]string{}
				}
				b.labels[k] = v
			}
		}
	}
	return b, nil
}

// nodeConfigTaints decodes the NodeConfig documents in a bootstrap command
// (plain YAML or one part of a MIME multi-part message) and returns their
// spec.kubelet.config.registerWithTaints.
func nodeConfigTaints(cmd string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	rest := cmd
	for {
		i := strings.Index(rest, "apiVersion: node.eks.aws/")
		if i < 0 {
			return out, nil
		}
		rest = rest[i:]
		part := rest
		// A MIME boundary line ("--BOUNDARY") ends the part.
		if j := strings.Index(part, "\n--"); j >= 0 {
			part = part[:j]
		}
		rest = rest[len("apiVersion"):]
		var nc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Kubelet struct {
					Config struct {
						RegisterWithTaints []struct {
							Key    string `yaml:"key"`
							Value  string `yaml:"value"`
							Effect string `yaml:"effect"`
						} `yaml:"registerWithTaints"`
					} `yaml:"config"`
				} `yaml:"kubelet"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal([]byte(part), &nc); err != nil {
			return nil, fmt.Errorf("NodeConfig: %w", err)
		}
		for _, t := range nc.Spec.Kubelet.Config.RegisterWithTaints {
			e, err := parseEffect(t.Effect)
			if err != nil {
				return nil, fmt.Errorf("NodeConfig registerWithTaints %q: %w", t.Key, err)
			}
			out = append(out, corev1.Taint{Key: t.Key, Value: t.Value, Effect: e})
		}
	}
}

// normArch maps the spellings of AWS and eksctl to kubernetes.io/arch.
func normArch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "amd64":
		return "amd64"
	case "arm64", "aarch64", "arm64_mac":
		return "arm64"
	}
	return strings.ToLower(a)
}
