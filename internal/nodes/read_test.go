package nodes

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestAddRejects(t *testing.T) {
	bomb := "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: x}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 10; i++ {
		bomb += "a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat("*a"+string(rune('0'+i-1))+", ", 9) + "*a" + string(rune('0'+i-1)) + "]\n"
	}
	bomb += "nodeGroups: [{name: n1, instanceType: m7g.large, tags: *a9}]\n"
	for _, c := range []struct{ name, data, want string }{
		{"duplicate key", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: a\n    instanceType: m6i.large\n    instanceType: m7g.large\n", `duplicate key "instanceType" at lines 5 and 6`},
		{"alias bomb", bomb, "alias bomb"},
		{"no kind", "foo: bar\n", "not an eksctl ClusterConfig"},
		{"bad taint effect", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: a\n    taints: [{key: arm, value: \"true\", effect: NoScheduel}]\n", `effect "NoScheduel"`},
		{"legacy taint without effect", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - name: a\n    taints: {arm: \"true\"}\n", `has no :Effect`},
		{"bad JSON", `{"Tags": [}`, "invalid character"},
		{"unnamed group", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nnodeGroups:\n  - instanceType: m7g.large\n", "node group without a name"},
	} {
		var in Inputs
		err := in.Add(c.name+".yaml", []byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name+".yaml") {
			t.Errorf("%s: error %v, want one naming the input and containing %q", c.name, err, c.want)
		}
	}
}

func TestReadFileTooLarge(t *testing.T) {
	path := t.TempDir() + "/huge.yaml"
	if err := os.WriteFile(path, make([]byte, MaxInputBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	var in Inputs
	if err := in.ReadFile(path); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("error %v, want larger than 16 MiB", err)
	}
}

// TestAddNodes: Node objects of several documents and List items are
// grouped together by their node-group label.
func TestAddNodes(t *testing.T) {
	var in Inputs
	doc := "apiVersion: v1\nkind: Node\nmetadata: {name: %s, labels: {kubernetes.io/arch: arm64, eks.amazonaws.com/nodegroup: arm}}\n"
	if err := in.Add("nodes.yaml", []byte(fmt.Sprintf(doc, "a")+"---\n"+fmt.Sprintf(doc, "b"))); err != nil {
		t.Fatal(err)
	}
	gs := in.Groups()
	if len(gs) != 1 || len(gs[0].Nodes) != 2 || gs[0].Source != "nodes.yaml" {
		t.Errorf("groups %+v, want one group of two nodes from nodes.yaml", gs)
	}
}

func TestAddNodeList(t *testing.T) {
	// kubectl get nodes -o json, trimmed.
	data := `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-1-5", "labels": {"kubernetes.io/arch": "arm64", "eks.amazonaws.com/nodegroup": "arm", "node.kubernetes.io/instance-type": "m7g.large"}},
   "spec": {"taints": [{"key": "arm", "value": "true", "effect": "NoSchedule"}]}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-2-7", "labels": {"eks.amazonaws.com/nodegroup": "web"}},
   "status": {"nodeInfo": {"architecture": "amd64"}}}
]}`
	var in Inputs
	if err := in.Add("nodes.json", []byte(data)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range in.Groups() {
		got = append(got, fmt.Sprintf("%s %v %v %d", g.Name, g.Archs, g.InstanceTypes, len(g.Taints)))
	}
	want := []string{"eks.amazonaws.com/nodegroup=arm [arm64] [m7g.large] 1", "eks.amazonaws.com/nodegroup=web [amd64] [] 0"}
	if !slices.Equal(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
}
