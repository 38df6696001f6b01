package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/testenv"
)

// TestPlaceSchedules applies placed manifests to a real control plane
// (etcd, kube-apiserver, kube-scheduler) with an amd64 node and an arm64
// node tainted arm=true:NoSchedule, and checks that the scheduler binds
// every pod to a node whose architecture its images support.
func TestPlaceSchedules(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Scheduler: true})
	host := startSandbox(t)
	ctx := t.Context()
	env.AddNode(ctx, t, "amd-1", "amd64", map[string]string{"zone": "a"}, nil)
	env.AddNode(ctx, t, "arm-1", "arm64", map[string]string{"zone": "b"}, []corev1.Taint{{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}})
	env.Namespace(ctx, t, "shop")

	// zonesOrHost is an existing required affinity of two OR-ed terms: zone
	// b (only the arm64 node) or the host amd-1. Placement ANDs the arch
	// into both, so only amd-1 remains for an amd64-only image, although
	// the pod prefers zone b and tolerates the arm taint.
	const zonesOrHost = `  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          matchExpressions:
          - {key: zone, operator: In, values: [b]}
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: zone, operator: In, values: [b]}
        - matchExpressions:
          - {key: kubernetes.io/hostname, operator: In, values: [amd-1]}
  tolerations:
  - {key: arm, operator: Exists}
`
	pods := []struct {
		name, image string
		archs       []string // what the image supports
		extra       string   // more of the pod spec
	}{
		{"amd-only", "demo/legacy-billing:3.2", []string{"amd64"}, ""},
		{"arm-only", "demo/edge-agent:0.9", []string{"arm64"}, ""},
		{"multi", "demo/api:2.1", []string{"amd64", "arm64"}, ""},
		{"nested", "demo/nested:1.0", []string{"amd64", "arm64"}, ""},
		{"amd-only-two-terms", "demo/queue:1.1", []string{"amd64"}, zonesOrHost},
	}
	dir := t.TempDir()
	for _, p := range pods {
		manifest := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + p.name + "\n  namespace: shop\nspec:\n  containers:\n  - name: app\n    image: " + host + "/" + p.image + "\n" + p.extra
		if err := os.WriteFile(filepath.Join(dir, p.name+".yaml"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Control: unplaced, the arm64-only pod goes to the only untainted node,
	// the amd64 one, where it could not run: what placement fixes.
	var control corev1.Pod
	data, _ := os.ReadFile(filepath.Join(dir, "arm-only.yaml"))
	if err := yaml.Unmarshal(data, &control); err != nil {
		t.Fatal(err)
	}
	control.Name = "arm-only-unplaced"
	if _, err := env.Client.CoreV1().Pods("shop").Create(ctx, &control, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	got := runArchway(ctx, "", "place", "--in-place", "--arm-taint", "arm=true:NoSchedule", "--prefer", "arm64=100", "--no-cache", dir)
	if got.code != ExitOK {
		t.Fatalf("place: exit code %d; stderr:\n%s", got.code, got.stderr)
	}
	for _, p := range pods {
		data, err := os.ReadFile(filepath.Join(dir, p.name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(data, &pod); err != nil {
			t.Fatalf("%s: placed manifest: %v\n%s", p.name, err, data)
		}
		if _, err := env.Client.CoreV1().Pods("shop").Create(ctx, &pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: the API server rejects the placed pod: %v\n%s", p.name, err, data)
		}
	}
	for _, p := range pods {
		node, err := env.WaitScheduled(ctx, "shop", p.name)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		n, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		arch := n.Labels[corev1.LabelArchStable]
		t.Logf("%s (%s) → %s (%s)", p.name, strings.Join(p.archs, ","), node, arch)
		if !slices.Contains(p.archs, arch) {
			t.Errorf("%s: bound to %s (%s), but its image supports only %v", p.name, node, arch, p.archs)
		}
	}
	node, err := env.WaitScheduled(ctx, "shop", "arm-only-unplaced")
	if err != nil {
		t.Fatal(err)
	}
	if node != "amd-1" {
		t.Errorf("control: the unplaced arm64-only pod was bound to %s, not amd-1; the test proves nothing", node)
	}
}
