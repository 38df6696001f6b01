package nodes

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// read reads testdata inputs into groups.
func read(t *testing.T, files ...string) []Group {
	t.Helper()
	var in Inputs
	for _, f := range files {
		if err := in.ReadFile(filepath.Join("testdata", f)); err != nil {
			t.Fatal(err)
		}
	}
	return in.Groups()
}

// brief writes findings as "severity rule group" lines.
func brief(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		line := fmt.Sprintf("%s %s %s", f.Severity, f.Rule, f.Group)
		if f.Workload != "" {
			line += " " + f.Workload
		}
		out = append(out, line)
	}
	return out
}

func TestCheckEksctl(t *testing.T) {
	v, _ := ParseCAVersion("1.29.3")
	got := Check(read(t, "eksctl-cluster.yaml"), Options{CAVersion: &v})
	want := []string{
		"error tag-key-typo al2-arm",
		"error taint-tag-missing al2-arm",
		"error taint-tag-format arm-self",
		"error label-tag-mismatch kubelet-arm",
		"error arch-label-tag-contradicts legacy",
		"error ca-mng-taint-effect mng-arm",
		"error mixed-arch spot-mixed",
		"warning arch-label-tag-missing arm-self",
		"warning managed-group-tags-not-on-asg mng-arm",
		"warning arm-group-untainted mng-selector",
		"warning managed-group-tags-not-on-asg mng-selector",
		"warning label-tag-missing x86",
		"unknown instance-type-unknown future",
	}
	if diff := cmp.Diff(want, brief(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, f := range got {
			t.Logf("%s %s %s: %s | %v | fix: %s", f.Severity, f.Rule, f.Group, f.Message, f.Evidence, f.Fix)
		}
	}
	byRule := map[string]Finding{}
	for _, f := range got {
		byRule[f.Rule+" "+f.Group] = f
	}
	if f := byRule["taint-tag-format arm-self"]; !strings.Contains(f.Message, "propagateASGTags writes a taint tag with the taint's value only") ||
		f.Fix != "set the tag k8s.io/cluster-autoscaler/node-template/taint/arm to true:NoSchedule; eksctl cannot write the effect for a self-managed group: drop propagateASGTags and give the label and taint tags under the group's tags (archway nodes tags prints them)" {
		t.Errorf("taint-tag-format arm-self: %+v", f)
	}
	if f := byRule["mixed-arch spot-mixed"]; !strings.Contains(f.Message, "first instance type only (m7g.large, arm64)") {
		t.Errorf("mixed-arch: %+v", f)
	}
	if f := byRule["tag-key-typo al2-arm"]; f.Fix != "rename the tag to k8s.io/cluster-autoscaler/node-template/taint/arm" {
		t.Errorf("tag-key-typo: %+v", f)
	}
}

func TestCheckCAVersions(t *testing.T) {
	groups := read(t, "eksctl-cluster.yaml")
	for _, c := range []struct {
		version string
		want    map[string]string // "rule group" → severity; absent: no finding
	}{
		{"", map[string]string{"arch-label-tag-missing arm-self": "warning"}},
		{"1.21.0", map[string]string{"arch-label-tag-missing arm-self": "error"}},
		{"v1.24.0", map[string]string{"ca-mng-taint-effect mng-arm": "error"}},
		{"1.30", map[string]string{"ca-mng-taint-effect mng-arm": "error"}},
		{"1.31.0", map[string]string{"arch-label-tag-missing arm-self": "warning", "ca-mng-taint-effect mng-arm": ""}},
		{"1.23.1", map[string]string{"ca-mng-taint-effect mng-arm": ""}},
	} {
		var opts Options
		if c.version != "" {
			v, err := ParseCAVersion(c.version)
			if err != nil {
				t.Fatal(err)
			}
			opts.CAVersion = &v
		} else {
			c.want["ca-mng-taint-effect mng-arm"] = ""
		}
		got := map[string]string{}
		for _, f := range Check(groups, opts) {
			got[f.Rule+" "+f.Group] = string(f.Severity)
		}
		for k, sev := range c.want {
			if got[k] != sev {
				t.Errorf("--ca-version %q: %s: severity %q, want %q", c.version, k, got[k], sev)
			}
		}
	}
	for _, bad := range []string{"1", "latest", "1.x", "1.2.3.4"} {
		if _, err := ParseCAVersion(bad); err == nil {
			t.Errorf("ParseCAVersion(%q): no error", bad)
		}
	}
}

func TestCheckKarpenter(t *testing.T) {
	groups := read(t, "karpenter.yaml")
	got := Check(groups, Options{})
	want := []string{
		"error karpenter-ami-arch graviton",
		"warning nodepool-both-arches default",
		"warning karpenter-startup-taint families",
		"unknown karpenter-ami-arch families",
		"unknown karpenter-ami-arch tagged",
	}
	if diff := cmp.Diff(want, brief(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, f := range got {
			t.Logf("%s %s %s: %s | %v | fix: %s", f.Severity, f.Rule, f.Group, f.Message, f.Evidence, f.Fix)
		}
	}
	archs := map[string][]string{}
	for _, g := range groups {
		archs[g.Name] = g.Archs
	}
	wantArchs := map[string][]string{"default": {"amd64", "arm64"}, "graviton": {}, "families": {"arm64"}, "intel": {"amd64"}, "tagged": {"arm64"}}
	if diff := cmp.Diff(wantArchs, archs); diff != "" {
		t.Errorf("NodePool architectures (-want +got):\n%s", diff)
	}
}

func TestCheckASGJSON(t *testing.T) {
	got := Check(read(t, "eksctl-cluster.yaml", "describe-tags.json", "describe-asgs.json"), Options{})
	// The eksctl groups' findings of TestCheckEksctl (without the
	// autoscaler version), and the ASGs': mng-arm's ASG from describe-tags
	// shows nothing reached it; batch-arm has the effect alone as a value
	// (an old docs example) and a lower-case effect; web-mixed's overrides
	// mix architectures, the first arm64.
	want := []string{
		"error tag-key-typo al2-arm",
		"error taint-tag-missing al2-arm",
		"error taint-tag-format arm-self",
		"error taint-tag-format batch-arm",
		"error taint-tag-format batch-arm",
		"error label-tag-mismatch kubelet-arm",
		"error arch-label-tag-contradicts legacy",
		"error mixed-arch spot-mixed",
		"error mixed-arch web-mixed",
		"warning arch-label-tag-missing arm-self",
		"warning managed-group-tags-not-on-asg mng-arm",
		"warning arm-group-untainted mng-selector",
		"warning managed-group-tags-not-on-asg mng-selector",
		"warning label-tag-missing x86",
		"unknown instance-type-unknown future",
	}
	if diff := cmp.Diff(want, brief(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	have := map[string]int{}
	for _, line := range brief(got) {
		have[line]++
	}
	if have["error taint-tag-format batch-arm"] != 2 {
		t.Errorf("taint-tag-format batch-arm: %d findings, want 2 (arm=NoSchedule, dedicated=batch:noschedule)", have["error taint-tag-format batch-arm"])
	}
	fixes := map[string]bool{}
	for _, f := range got {
		fixes[f.Fix] = true
	}
	for _, fix := range []string{
		"the value is the effect alone: write the taint's value before it, e.g. k8s.io/cluster-autoscaler/node-template/taint/arm=true:NoSchedule for the taint arm=true:NoSchedule (or :NoSchedule for a taint without a value)",
		"spell the effect as Kubernetes does: k8s.io/cluster-autoscaler/node-template/taint/dedicated=batch:NoSchedule",
	} {
		if !fixes[fix] {
			t.Errorf("no finding with the fix %q", fix)
		}
	}
	for _, f := range got {
		if f.Group == "eks-mng-arm-6ec5b1f2-0e3a-4a1b-9c1e-2b8a7f6d5c41" {
			t.Errorf("the ASG of mng-arm is not joined to its node group: %+v", f)
		}
		if f.Rule == "taint-tag-format" && f.Group == "batch-arm" && strings.Contains(f.Message, "eksctl") {
			t.Errorf("an ASG read from AWS is blamed on eksctl: %s", f.Message)
		}
	}
}

// TestCheckKarpenterImages reads the AMIs' architectures from
// describe-images output: the tagged EC2NodeClass selects an x86 and an
// arm64 image, so the arm64 NodePool is served; without the output it is
// unknown.
func TestCheckKarpenterImages(t *testing.T) {
	find := func(fs []Finding, group string) []string {
		var out []string
		for _, f := range fs {
			if f.Group == group {
				out = append(out, string(f.Severity)+" "+f.Rule)
			}
		}
		return out
	}
	if got := find(Check(read(t, "karpenter.yaml"), Options{}), "tagged"); !cmp.Equal(got, []string{"unknown karpenter-ami-arch"}) {
		t.Errorf("without describe-images: %v", got)
	}
	groups := read(t, "karpenter.yaml", "describe-images.json")
	if got := find(Check(groups, Options{}), "tagged"); len(got) != 0 {
		t.Errorf("with describe-images: %v, want none", got)
	}
	for _, g := range groups {
		if g.Name == "tagged" && !cmp.Equal(g.AMIArchs, []string{"amd64", "arm64"}) {
			t.Errorf("tagged AMI architectures %v (evidence %v)", g.AMIArchs, g.AMIEvidence)
		}
	}
}

// TestCheckManagedQuiet: managed groups with nothing the autoscaler must
// be told (amd64, no labels, no taints) are not flagged, with or without
// propagateASGTags; an arm64 one without it is.
func TestCheckManagedQuiet(t *testing.T) {
	var in Inputs
	err := in.Add("mng.yaml", []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c}
managedNodeGroups:
  - {name: plain, instanceType: m6i.large}
  - {name: plain-propagated, instanceType: m6i.large, propagateASGTags: true}
  - {name: graviton, instanceType: m7g.large}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := brief(Check(in.Groups(), Options{}))
	want := []string{"warning arm-group-untainted graviton", "warning managed-group-tags-not-on-asg graviton"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
