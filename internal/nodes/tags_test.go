package nodes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanTags(t *testing.T) {
	plans := PlanTags(read(t, "eksctl-cluster.yaml", "describe-tags.json", "describe-asgs.json", "karpenter.yaml"))
	byGroup := map[string]TagPlan{}
	for _, p := range plans {
		byGroup[p.Group] = p
	}
	tags := func(group string) []string {
		var out []string
		for _, tag := range byGroup[group].Tags {
			if tag.ResourceType != "auto-scaling-group" || !tag.PropagateAtLaunch {
				t.Errorf("%s: tag %+v: want ResourceType auto-scaling-group, PropagateAtLaunch", group, tag)
			}
			out = append(out, tag.ResourceID+" "+tag.Key+"="+tag.Value)
		}
		return out
	}
	const mngASG = "eks-mng-arm-6ec5b1f2-0e3a-4a1b-9c1e-2b8a7f6d5c41"
	for group, want := range map[string][]string{
		// The propagated value "true" is replaced by value:Effect.
		"arm-self": {
			"ASG-OF-arm-self k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch=arm64",
			"ASG-OF-arm-self k8s.io/cluster-autoscaler/node-template/taint/arm=true:NoSchedule",
		},
		// The contradicting arch tag is corrected; the right taint tag kept.
		"legacy": {"ASG-OF-legacy k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch=arm64"},
		// The ASG name comes from describe-tags.
		"mng-arm": {
			mngASG + " k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch=arm64",
			mngASG + " k8s.io/cluster-autoscaler/node-template/label/role=arm",
			mngASG + " k8s.io/cluster-autoscaler/node-template/taint/arm=true:NoSchedule",
		},
		// A label tag that disagrees with the label is corrected.
		"kubelet-arm": {"ASG-OF-kubelet-arm k8s.io/cluster-autoscaler/node-template/label/tier=web"},
		// Everything right already: no plan.
		"mng-al2023": nil,
	} {
		if diff := cmp.Diff(want, tags(group)); diff != "" {
			t.Errorf("%s tags (-want +got):\n%s", group, diff)
		}
	}
	if got := byGroup["al2-arm"].Remove; !cmp.Equal(got, []string{"k8s.io/cluster-autoscaler/node-template/taints/arm"}) {
		t.Errorf("al2-arm: remove %v", got)
	}
	mng := byGroup["mng-arm"].Eksctl
	for _, want := range []string{"managedNodeGroups:", "propagateASGTags: true", "k8s.io/cluster-autoscaler/node-template/taint/arm: true:NoSchedule"} {
		if !strings.Contains(mng, want) {
			t.Errorf("mng-arm eksctl snippet lacks %q:\n%s", want, mng)
		}
	}
	if s := byGroup["arm-self"].Eksctl; !strings.Contains(s, "propagateASGTags: false") {
		t.Errorf("arm-self eksctl snippet keeps propagateASGTags (which writes effect-less taint tags):\n%s", s)
	}
	if s := byGroup["al2-arm"].NodeConfig; !strings.Contains(s, "- --register-with-taints=arm=true:NoSchedule") || !strings.Contains(s, "kind: NodeConfig") {
		t.Errorf("al2-arm NodeConfig snippet:\n%s", s)
	}
	if s := byGroup["default"].Karpenter; !strings.Contains(s, "values:\n        - arm64") {
		t.Errorf("default NodePool snippet:\n%s", s)
	}
	if _, ok := byGroup["graviton"]; ok {
		t.Errorf("a single-architecture NodePool got a plan: %+v", byGroup["graviton"])
	}
	all := CreateOrUpdateTags(plans)["Tags"]
	if len(all) != 11 {
		t.Errorf("create-or-update-tags input holds %d tags, want 11", len(all))
	}
}
