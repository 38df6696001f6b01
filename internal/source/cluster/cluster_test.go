package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/archwaydev/archway/internal/testenv"
	"github.com/archwaydev/archway/internal/workload"
)

// summary is one line per workload: ID, pinned architectures and the
// containers as name(kind)=image.
func summary(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		var cs []string
		for _, c := range w.Containers {
			cs = append(cs, fmt.Sprintf("%s(%s)=%s", c.Name, c.Kind, c.Image))
		}
		out = append(out, fmt.Sprintf("%s %s %s pinned=%v %s", w.Source, w.Location.File, w.ID(), w.PinnedArchitectures, strings.Join(cs, " ")))
	}
	return out
}

func podSpec(images ...string) corev1.PodSpec {
	var s corev1.PodSpec
	for i, img := range images {
		s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img})
	}
	return s
}

func template(spec corev1.PodSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: spec}
}

var selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}

// meta returns the metadata of name in ns. The UID is for the fake
// clientset, which assigns none; a real API server replaces it.
func meta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)}
}

// ownedBy returns meta for name in ns controlled by owner.
func ownedBy(ns, name string, owner metav1.Object, gvk schema.GroupVersionKind) metav1.ObjectMeta {
	m := meta(ns, name)
	m.Labels = map[string]string{"app": "x"}
	m.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, gvk)}
	return m
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// populate creates, in namespaces shop and batch, the objects a cluster
// with controllers would have: a Deployment with its ReplicaSet and Pod, a
// StatefulSet and its Pod, a CronJob with its Job and Pod, a DaemonSet, a
// ReplicationController, a ReplicaSet owned by an Argo Rollout, and a bare
// Pod with a sidecar and an ephemeral container.
func populate(ctx context.Context, t *testing.T, c kubernetes.Interface) {
	t.Helper()
	apps, batch, core := c.AppsV1(), c.BatchV1(), c.CoreV1()
	create := metav1.CreateOptions{}

	armSpec := podSpec("example/web:1.0", "example/exporter:0.9")
	armSpec.NodeSelector = map[string]string{"kubernetes.io/arch": "arm64"}
	dep, err := apps.Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: meta("shop", "web"),
		Spec:       appsv1.DeploymentSpec{Selector: selector, Template: template(armSpec)},
	}, create)
	ok(t, err)
	rs, err := apps.ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: ownedBy("shop", "web-5d8f", dep, appsv1.SchemeGroupVersion.WithKind("Deployment")),
		Spec:       appsv1.ReplicaSetSpec{Selector: selector, Template: template(armSpec)},
	}, create)
	ok(t, err)
	_, err = core.Pods("shop").Create(ctx, &corev1.Pod{
		ObjectMeta: ownedBy("shop", "web-5d8f-abcde", rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")),
		Spec:       armSpec,
	}, create)
	ok(t, err)

	sts, err := apps.StatefulSets("shop").Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: meta("shop", "db"),
		Spec:       appsv1.StatefulSetSpec{Selector: selector, ServiceName: "db", Template: template(podSpec("postgres:16.3"))},
	}, create)
	ok(t, err)
	_, err = core.Pods("shop").Create(ctx, &corev1.Pod{
		ObjectMeta: ownedBy("shop", "db-0", sts, appsv1.SchemeGroupVersion.WithKind("StatefulSet")),
		Spec:       podSpec("postgres:16.3"),
	}, create)
	ok(t, err)

	jobSpec := podSpec("example/report:2")
	jobSpec.RestartPolicy = corev1.RestartPolicyNever
	cj, err := batch.CronJobs("batch").Create(ctx, &batchv1.CronJob{
		ObjectMeta: meta("batch", "nightly"),
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: jobSpec}},
		}},
	}, create)
	ok(t, err)
	job, err := batch.Jobs("batch").Create(ctx, &batchv1.Job{
		ObjectMeta: ownedBy("batch", "nightly-29000000", cj, batchv1.SchemeGroupVersion.WithKind("CronJob")),
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: jobSpec}},
	}, create)
	ok(t, err)
	jobPod := ownedBy("batch", "nightly-29000000-xyz", job, batchv1.SchemeGroupVersion.WithKind("Job"))
	_, err = core.Pods("batch").Create(ctx, &corev1.Pod{ObjectMeta: jobPod, Spec: jobSpec}, create)
	ok(t, err)

	dsSpec := podSpec("quay.io/prometheus/node-exporter:v1.8.1")
	dsSpec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64", "arm64"}}},
		}}},
	}}
	_, err = apps.DaemonSets("shop").Create(ctx, &appsv1.DaemonSet{
		ObjectMeta: meta("shop", "agent"),
		Spec:       appsv1.DaemonSetSpec{Selector: selector, Template: template(dsSpec)},
	}, create)
	ok(t, err)

	tmpl := template(podSpec("httpd:2.4"))
	_, err = core.ReplicationControllers("batch").Create(ctx, &corev1.ReplicationController{
		ObjectMeta: meta("batch", "legacy"),
		Spec:       corev1.ReplicationControllerSpec{Selector: map[string]string{"app": "x"}, Template: &tmpl},
	}, create)
	ok(t, err)

	// A ReplicaSet whose controller is a custom resource this package does
	// not read: reported as the ReplicaSet.
	rollout := &metav1.ObjectMeta{Name: "checkout", UID: "7c1f3b9e-0000-4000-8000-000000000001"}
	_, err = apps.ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: ownedBy("shop", "checkout-6b7c", rollout, schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"}),
		Spec:       appsv1.ReplicaSetSpec{Selector: selector, Template: template(podSpec("example/checkout:3.4"))},
	}, create)
	ok(t, err)

	bare := podSpec("busybox:1.36")
	always := corev1.ContainerRestartPolicyAlways
	bare.InitContainers = []corev1.Container{
		{Name: "migrate", Image: "example/migrate:1"},
		{Name: "proxy", Image: "envoyproxy/envoy:v1.30.1", RestartPolicy: &always},
	}
	pod, err := core.Pods("batch").Create(ctx, &corev1.Pod{
		ObjectMeta: meta("batch", "debug"),
		Spec:       bare,
	}, create)
	ok(t, err)
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debugger", Image: "nicolaka/netshoot:v0.13", TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent,
	}}}
	_, err = core.Pods("batch").UpdateEphemeralContainers(ctx, "debug", pod, metav1.UpdateOptions{})
	ok(t, err)
}

func TestReadRealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.Namespace(ctx, t, "shop")
	env.Namespace(ctx, t, "batch")
	populate(ctx, t, env.Client)

	shop := []string{
		"cluster cluster:kind-dev Deployment/shop/web pinned=[arm64] c0(container)=example/web:1.0 c1(container)=example/exporter:0.9",
		"cluster cluster:kind-dev StatefulSet/shop/db pinned=[] c0(container)=postgres:16.3",
		"cluster cluster:kind-dev DaemonSet/shop/agent pinned=[amd64 arm64] c0(container)=quay.io/prometheus/node-exporter:v1.8.1",
		"cluster cluster:kind-dev ReplicaSet/shop/checkout-6b7c pinned=[] c0(container)=example/checkout:3.4",
	}
	batch := []string{
		"cluster cluster:kind-dev CronJob/batch/nightly pinned=[] c0(container)=example/report:2",
		"cluster cluster:kind-dev ReplicationController/batch/legacy pinned=[] c0(container)=httpd:2.4",
		"cluster cluster:kind-dev Pod/batch/debug pinned=[] c0(container)=busybox:1.36 migrate(init)=example/migrate:1 proxy(sidecar)=envoyproxy/envoy:v1.30.1 debugger(ephemeral)=nicolaka/netshoot:v0.13",
	}
	// In all namespaces the order is by kind, then namespace and name.
	all := append(append([]string{}, shop...), batch...)
	for _, tt := range []struct {
		namespace string
		want      []string
	}{
		{"", all},
		{"shop", shop},
		{"batch", batch},
		{"empty", nil},
	} {
		t.Run("namespace="+tt.namespace, func(t *testing.T) {
			ws, err := Read(ctx, env.Client, Options{Namespace: tt.namespace, Context: "kind-dev"})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, summary(ws)); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
			for _, w := range ws {
				if w.PodSpec == nil || w.APIVersion == "" {
					t.Errorf("%s: PodSpec %v, APIVersion %q", w.ID(), w.PodSpec, w.APIVersion)
				}
			}
		})
	}
}

// TestReadListForbidden scripts the one thing a real API server here
// cannot easily do: refuse one kind (RBAC). The other kinds are still
// read, the Pods of the unreadable ReplicaSets are not reported in their
// place, and the error names the kind.
func TestReadListForbidden(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	populate(ctx, t, client)
	client.PrependReactor("list", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "", errors.New("RBAC: access denied"))
	})
	ws, err := Read(ctx, client, Options{Namespace: "shop"})
	if err == nil || !strings.Contains(err.Error(), "list apps/ReplicaSet: ") || !apierrors.IsForbidden(err) {
		t.Fatalf("error = %v, want a forbidden list of apps/ReplicaSet", err)
	}
	want := []string{
		"cluster cluster: Deployment/shop/web pinned=[arm64] c0(container)=example/web:1.0 c1(container)=example/exporter:0.9",
		"cluster cluster: StatefulSet/shop/db pinned=[] c0(container)=postgres:16.3",
		"cluster cluster: DaemonSet/shop/agent pinned=[amd64 arm64] c0(container)=quay.io/prometheus/node-exporter:v1.8.1",
	}
	if diff := cmp.Diff(want, summary(ws)); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
}
