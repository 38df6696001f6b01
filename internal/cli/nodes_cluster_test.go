package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/testenv"
)

// TestNodesCmdCluster reads the Nodes of a real kube-apiserver through a
// kubeconfig file, grouped by their node-group labels.
func TestNodesCmdCluster(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.AddNode(ctx, t, "web-1", "amd64", map[string]string{"eks.amazonaws.com/nodegroup": "web", corev1.LabelInstanceTypeStable: "m6i.large"}, nil)
	env.AddNode(ctx, t, "web-2", "amd64", map[string]string{"eks.amazonaws.com/nodegroup": "web", corev1.LabelInstanceTypeStable: "m6i.large"}, nil)
	env.AddNode(ctx, t, "arm-1", "arm64", map[string]string{"eks.amazonaws.com/nodegroup": "arm", corev1.LabelInstanceTypeStable: "m7g.large"}, nil)
	env.AddNode(ctx, t, "batch-1", "arm64", map[string]string{"karpenter.sh/nodepool": "batch"}, []corev1.Taint{{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}})
	t.Setenv("KUBECONFIG", "")
	ca := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cluster-autoscaler"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ca"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "ca"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "ca", Image: "registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.3"}}},
			},
		},
	}
	if _, err := env.Client.AppsV1().Deployments("kube-system").Create(ctx, ca, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	reg := registrytest.StartInProcess(t)
	registrytest.Push(t, reg.Ref("legacy/app:1"), registrytest.Image(t, platform.LinuxAMD64))
	manifests := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(manifests, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: shop}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: app, image: `+reg.Ref("legacy/app:1")+`}]
`), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		args  []string
		code  int
		rules []string
	}{
		{"nodes only", nil, ExitOK, []string{"warning arm-group-untainted eks.amazonaws.com/nodegroup=arm"}},
		{"with workloads", []string{"--no-cache", "--insecure-registry", reg.Host, "--workloads", manifests}, ExitUnsupported, []string{
			"error workload-wrong-arch eks.amazonaws.com/nodegroup=arm",
			"warning arm-group-untainted eks.amazonaws.com/nodegroup=arm",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := runArchway(ctx, "", append([]string{"nodes", "--cluster", "--kubeconfig", env.Kubeconfig, "-o", "json"}, c.args...)...)
			if got.code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", got.code, c.code, got.stderr)
			}
			var out struct {
				Groups []struct {
					Name  string   `json:"name"`
					Archs []string `json:"archs"`
				} `json:"groups"`
				Findings []struct{ Rule, Severity, Group string } `json:"findings"`
			}
			if err := json.Unmarshal([]byte(got.stdout), &out); err != nil {
				t.Fatal(err)
			}
			var groups, rules []string
			for _, g := range out.Groups {
				groups = append(groups, g.Name+" "+g.Archs[0])
			}
			for _, f := range out.Findings {
				rules = append(rules, f.Severity+" "+f.Rule+" "+f.Group)
			}
			slices.Sort(groups)
			if want := []string{"eks.amazonaws.com/nodegroup=arm arm64", "eks.amazonaws.com/nodegroup=web amd64", "karpenter.sh/nodepool=batch arm64"}; !slices.Equal(groups, want) {
				t.Errorf("groups %v, want %v", groups, want)
			}
			if !slices.Equal(rules, c.rules) {
				t.Errorf("findings %v, want %v", rules, c.rules)
			}
		})
	}
	// The autoscaler's version comes from its Deployment's image tag.
	got := runArchway(ctx, "", "nodes", "--cluster", "--kubeconfig", env.Kubeconfig, nodesTestdata("eksctl-cluster.yaml"))
	if want := "evidence: Cluster Autoscaler 1.29 (deployment kube-system/cluster-autoscaler runs registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.3)"; !strings.Contains(got.stdout, want) {
		t.Errorf("no ca-mng-taint-effect from the cluster's autoscaler version; want %q in:\n%s", want, got.stdout)
	}
	if got := runArchway(ctx, "", "nodes", "--cluster", "--kubeconfig", filepath.Join(t.TempDir(), "missing")); got.code != ExitError {
		t.Errorf("a missing kubeconfig: exit %d, want %d; stderr: %s", got.code, ExitError, got.stderr)
	}
}
