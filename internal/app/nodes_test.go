package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/nodes"
)

// TestNodes: the workloads' images are each asked for once, a failed
// lookup makes the workload's fit unknown, and an unreadable input is in
// Errs while the others are still read.
func TestNodes(t *testing.T) {
	dir := t.TempDir()
	groups := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(groups, []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c}
nodeGroups:
  - {name: x86, instanceType: m6i.large}
  - {name: arm, instanceType: m7g.large}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pods := filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(pods, []byte(`apiVersion: v1
kind: Pod
metadata: {name: a}
spec: {containers: [{name: c, image: "r/x:1"}, {name: d, image: "r/y:1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec: {containers: [{name: c, image: "r/x:1"}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &recordingLookup{}
	res := Nodes(t.Context(), l, NodesOptions{Files: []string{groups, filepath.Join(dir, "gone.yaml")}, Workloads: []string{pods}, Jobs: 2})
	slices.Sort(l.asked)
	if !slices.Equal(l.asked, []string{"r/x:1", "r/y:1"}) {
		t.Errorf("lookups %v, want each image once", l.asked)
	}
	if len(res.Errs) != 1 || !strings.Contains(res.Errs[0].Error(), "gone.yaml") {
		t.Errorf("errs %v, want one naming gone.yaml", res.Errs)
	}
	if len(res.Report.Groups) != 2 || len(res.Report.Workloads) != 2 {
		t.Fatalf("%d groups, %d workloads; want 2 and 2", len(res.Report.Groups), len(res.Report.Workloads))
	}
	var rules []string
	for _, f := range res.Report.Findings {
		rules = append(rules, string(f.Severity)+" "+f.Rule+" "+f.Workload)
	}
	for _, want := range []string{"unknown workload-image-unknown Pod/a", "unknown workload-image-unknown Pod/b", "warning arm-group-untainted "} {
		if !slices.Contains(rules, want) {
			t.Errorf("no finding %q in %v", want, rules)
		}
	}
	if nodes.Has(res.Report.Findings, nodes.SeverityError) {
		t.Errorf("a failed lookup made an error finding: %v", rules)
	}
}
