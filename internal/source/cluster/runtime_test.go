package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/testenv"
	"github.com/archwaydev/archway/internal/workload"
)

// TestReadRuntimeEvidence reads, from a real API server, pods whose status
// was written through the status subresource: one running on an arm64
// node, one running on amd64, one in CrashLoopBackOff on arm64 whose last
// termination says exec format error. Their evidence lands on the
// Deployment that owns them through a ReplicaSet.
func TestReadRuntimeEvidence(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.Namespace(ctx, t, "shop")
	env.AddNode(ctx, t, "amd-1", "amd64", nil, nil)
	env.AddNode(ctx, t, "arm-1", "arm64", nil, nil)
	spec := podSpec("example/web:1.0")
	spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
	dep, err := env.Client.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: meta("shop", "web"),
		Spec:       appsv1.DeploymentSpec{Selector: selector, Template: template(spec)},
	}, metav1.CreateOptions{})
	ok(t, err)
	rs, err := env.Client.AppsV1().ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: ownedBy("shop", "web-5d8f", dep, appsv1.SchemeGroupVersion.WithKind("Deployment")),
		Spec:       appsv1.ReplicaSetSpec{Selector: selector, Template: template(spec)},
	}, metav1.CreateOptions{})
	ok(t, err)
	pod := func(name, node string) *corev1.Pod {
		s := *spec.DeepCopy()
		s.NodeName = node
		return &corev1.Pod{ObjectMeta: ownedBy("shop", name, rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")), Spec: s}
	}
	const digest = "example/web@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	env.RunPod(ctx, t, pod("web-a", "arm-1"), testenv.Running(map[string]string{"c0": digest}))
	env.RunPod(ctx, t, pod("web-b", "amd-1"), testenv.Running(map[string]string{"c0": digest}))
	crash := corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "c0", ImageID: digest, Image: "example/web:1.0", RestartCount: 4,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 255, Reason: "Error", Message: "exec /app/web: exec format error",
		}},
	}}}
	env.RunPod(ctx, t, pod("web-c", "arm-1"), crash)
	env.RunPod(ctx, t, pod("web-d", ""), corev1.PodStatus{Phase: corev1.PodPending})

	arch := func(n *corev1.Node) string { return n.Labels[corev1.LabelArchStable] }
	ws, err := Read(ctx, env.Client, Options{Namespace: "shop", NodeArch: arch})
	ok(t, err)
	if len(ws) != 1 || ws[0].ID() != "Deployment/shop/web" {
		t.Fatalf("workloads = %v, want Deployment/shop/web alone", summary(ws))
	}
	want := &workload.Runtime{
		Pods:    4,
		Nodes:   map[string]int{"amd64": 1, "arm64": 2},
		Running: map[string]int{"amd64": 1, "arm64": 1},
		Images: []workload.RunningImage{
			{Container: "c0", Image: digest, ImageID: digest},
		},
		ExecFormatErrors: []workload.ExecFormatError{{
			Pod: "web-c", Container: "c0", Node: "arm-1", Architecture: "arm64",
			Message: "Error: exec /app/web: exec format error",
		}},
	}
	if diff := cmp.Diff(want, ws[0].Runtime); diff != "" {
		t.Errorf("runtime (-want +got):\n%s", diff)
	}
	if got := ws[0].CPURequests; got != 1000 {
		t.Errorf("CPU requests = %dm, want 1000m (four pods of 250m)", got)
	}
	if ws[0].UID != string(dep.UID) {
		t.Errorf("UID = %q, want the Deployment's %q", ws[0].UID, dep.UID)
	}

	// Without NodeArch no nodes are listed and the architectures are unknown.
	ws, err = Read(ctx, env.Client, Options{Namespace: "shop"})
	ok(t, err)
	if got := ws[0].Runtime.Nodes; !cmp.Equal(got, map[string]int{"": 3}) {
		t.Errorf("nodes without NodeArch = %v, want 3 pods on nodes of unknown architecture", got)
	}
}
