package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

// nodesTestdata is the node-group inputs written for internal/nodes' tests.
func nodesTestdata(name string) string { return filepath.Join("..", "nodes", "testdata", name) }

func TestNodesCmdFindings(t *testing.T) {
	got := runArchway(t.Context(), "", "nodes", "-o", "json", "--ca-version", "1.29",
		nodesTestdata("eksctl-cluster.yaml"), nodesTestdata("describe-tags.json"), nodesTestdata("describe-asgs.json"))
	if got.code != ExitUnsupported {
		t.Fatalf("exit %d, want %d (error findings); stderr: %s", got.code, ExitUnsupported, got.stderr)
	}
	var out struct {
		Groups   []map[string]any `json:"groups"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got.stdout)
	}
	if len(out.Groups) != 12 {
		t.Errorf("%d groups, want 12 (10 eksctl groups, 2 ASGs of their own)", len(out.Groups))
	}
	var rules []string
	for _, f := range out.Findings {
		for _, key := range []string{"rule", "severity", "group", "message", "fix"} {
			if _, ok := f[key]; !ok {
				t.Errorf("finding %v lacks %q", f, key)
			}
		}
		rules = append(rules, f["severity"].(string)+" "+f["rule"].(string)+" "+f["group"].(string))
	}
	for _, want := range []string{
		"error taint-tag-format arm-self",
		"error ca-mng-taint-effect mng-arm",
		"error mixed-arch web-mixed",
		"warning managed-group-tags-not-on-asg mng-arm",
		"unknown instance-type-unknown future",
	} {
		if !slices.Contains(rules, want) {
			t.Errorf("no finding %q in %v", want, rules)
		}
	}
}

func TestNodesCmdExitCodes(t *testing.T) {
	dir := t.TempDir()
	notInput := filepath.Join(dir, "notes.yaml")
	if err := os.WriteFile(notInput, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(dir, "clean.yaml")
	if err := os.WriteFile(clean, []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c, region: eu-west-1}
nodeGroups:
  - name: arm
    instanceType: m7g.large
    propagateASGTags: false
    taints: [{key: arm, value: "true", effect: NoSchedule}]
    tags:
      k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch: arm64
      k8s.io/cluster-autoscaler/node-template/taint/arm: "true:NoSchedule"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(t.TempDir(), "unknown.yaml")
	if err := os.WriteFile(unknown, []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c, region: eu-west-1}
nodeGroups:
  - {name: future, instanceType: m10g.large}
  - {name: arm, instanceType: m7g.large}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"clean", []string{"nodes", clean}, ExitOK, ""},
		{"unknown and a warning", []string{"nodes", unknown}, ExitUnknown, ""},
		{"karpenter error", []string{"nodes", nodesTestdata("karpenter.yaml")}, ExitUnsupported, ""},
		{"no input", []string{"nodes"}, ExitUsage, "give node-group FILEs, --cluster, or both"},
		{"bad output", []string{"nodes", "-o", "xml", clean}, ExitUsage, `-o "xml"`},
		{"bad ca version", []string{"nodes", "--ca-version", "latest", clean}, ExitUsage, "--ca-version"},
		{"kubeconfig without cluster", []string{"nodes", "--kubeconfig", "k", clean}, ExitUsage, "only apply with --cluster"},
		{"missing file", []string{"nodes", filepath.Join(dir, "nope.yaml")}, ExitError, "nope.yaml"},
		{"not a node input", []string{"nodes", notInput}, ExitError, "not an eksctl ClusterConfig"},
		{"directory", []string{"nodes", dir}, ExitOK, ""},
		{"directory without inputs", []string{"nodes", t.TempDir()}, ExitError, "no node-group input in the directory"},
		{"tags bad output", []string{"nodes", "tags", "-o", "table", clean}, ExitUsage, `-o "table"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", c.args...)
			if got.code != c.code || !strings.Contains(got.stderr, c.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr containing %q", got.code, got.stderr, c.code, c.stderr)
			}
		})
	}
}

// TestNodesCmdKeepsGoing checks an input that cannot be read is reported
// while the others are still checked.
func TestNodesCmdKeepsGoing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone.yaml")
	got := runArchway(t.Context(), "", "nodes", missing, nodesTestdata("describe-asgs.json"))
	if got.code != ExitError || !strings.Contains(got.stderr, "gone.yaml") {
		t.Errorf("exit %d, stderr %q; want %d naming gone.yaml", got.code, got.stderr, ExitError)
	}
	if !strings.Contains(got.stdout, "ERROR [mixed-arch] web-mixed") {
		t.Errorf("the readable input was not checked:\n%s", got.stdout)
	}
}

func TestNodesCmdTags(t *testing.T) {
	got := runArchway(t.Context(), "", "nodes", "tags", "-o", "aws", nodesTestdata("eksctl-cluster.yaml"), nodesTestdata("describe-tags.json"))
	if got.code != ExitOK {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	var in struct {
		Tags []struct {
			ResourceID        string `json:"ResourceId"`
			ResourceType      string `json:"ResourceType"`
			Key, Value        string
			PropagateAtLaunch bool
		} `json:"Tags"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &in); err != nil {
		t.Fatalf("not create-or-update-tags input: %v\n%s", err, got.stdout)
	}
	found := false
	for _, tag := range in.Tags {
		if tag.ResourceID == "eks-mng-arm-6ec5b1f2-0e3a-4a1b-9c1e-2b8a7f6d5c41" && tag.Key == "k8s.io/cluster-autoscaler/node-template/taint/arm" && tag.Value == "true:NoSchedule" {
			found = true
		}
	}
	if !found {
		t.Errorf("no taint tag for mng-arm's ASG in:\n%s", got.stdout)
	}
	text := runArchway(t.Context(), "", "nodes", "tags", nodesTestdata("eksctl-cluster.yaml"))
	for _, want := range []string{"aws autoscaling create-or-update-tags --cli-input-json file://tags.json", "# eksctl ClusterConfig for arm-self:", "kind: NodeConfig"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("nodes tags output lacks %q", want)
		}
	}
}

// TestNodesCmdWorkloads looks the workloads' images up in a registry on
// loopback and reports where each can land.
func TestNodesCmdWorkloads(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	registrytest.Push(t, reg.Ref("amd64-only/app:1"), registrytest.Image(t, platform.LinuxAMD64))
	registrytest.PushIndex(t, reg.Ref("multi/app:1"), registrytest.Index(t, platform.LinuxAMD64, platform.LinuxARM64))
	registrytest.Push(t, reg.Ref("arm-only/app:1"), registrytest.Image(t, platform.LinuxARM64))
	data, err := os.ReadFile(nodesTestdata("fit-workloads.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifests := filepath.Join(t.TempDir(), "workloads.yaml")
	text := strings.NewReplacer("image: amd64-only/", "image: "+reg.Host+"/amd64-only/", "image: multi/", "image: "+reg.Host+"/multi/", "image: arm-only/", "image: "+reg.Host+"/arm-only/").Replace(string(data))
	if err := os.WriteFile(manifests, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runArchway(t.Context(), "", "nodes", "--no-cache", "--insecure-registry", reg.Host, "-o", "json",
		nodesTestdata("fit-groups.yaml"), "--workloads", manifests)
	if got.code != ExitUnsupported {
		t.Fatalf("exit %d, want %d; stderr: %s", got.code, ExitUnsupported, got.stderr)
	}
	var out struct {
		Workloads []struct {
			Workload  string   `json:"workload"`
			Archs     []string `json:"archs"`
			CanLand   []string `json:"canLand"`
			WrongArch []string `json:"wrongArch"`
			FitsNone  bool     `json:"fitsNone"`
		} `json:"workloads"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	byName := map[string]int{}
	for i, w := range out.Workloads {
		byName[w.Workload] = i
	}
	amd := out.Workloads[byName["Deployment/fit/amd-unpinned"]]
	if !slices.Equal(amd.Archs, []string{"amd64"}) || !slices.Equal(amd.WrongArch, []string{"arm-open", "arm-soft"}) {
		t.Errorf("amd-unpinned: %+v", amd)
	}
	if gpu := out.Workloads[byName["StatefulSet/fit/needs-gpu"]]; !gpu.FitsNone || !slices.Equal(gpu.Archs, []string{"amd64", "arm64"}) {
		t.Errorf("needs-gpu: %+v", gpu)
	}
	table := runArchway(t.Context(), "", "nodes", "--no-cache", "--insecure-registry", reg.Host, nodesTestdata("fit-groups.yaml"), "--workloads", manifests)
	for _, want := range []string{"WORKLOAD", "NO GROUP", "ERROR [workload-wrong-arch] Deployment/fit/amd-unpinned on arm-open: can land on a node it cannot run on"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, table.stdout)
		}
	}
}
