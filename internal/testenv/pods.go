package testenv

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RunPod creates pod, bound to the node its spec names, and writes status
// through the status subresource, as a kubelet would (none runs here). It
// returns the pod as stored.
func (e *Env) RunPod(ctx context.Context, t testing.TB, pod *corev1.Pod, status corev1.PodStatus) *corev1.Pod {
	t.Helper()
	pods := e.Client.CoreV1().Pods(pod.Namespace)
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: create pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	created.Status = status
	updated, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("testenv: write the status of pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	return updated
}

// Running is the status of a pod whose containers (named by images'
// keys) all run the image IDs images names, started now.
func Running(images map[string]string) corev1.PodStatus {
	st := corev1.PodStatus{Phase: corev1.PodRunning}
	for name, id := range images {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: name, Ready: true, ImageID: id, Image: id,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
		})
	}
	return st
}

// RunPodOf runs a pod of Deployment d on node with status, as the
// controllers and a kubelet would: through a ReplicaSet d controls (named
// after d), which controls the pod. It returns the pod as stored.
func (e *Env) RunPodOf(ctx context.Context, t testing.TB, d *appsv1.Deployment, node string, status corev1.PodStatus) *corev1.Pod {
	t.Helper()
	rs, err := e.Client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-1", Labels: d.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: create the ReplicaSet of %s/%s: %v", d.Namespace, d.Name, err)
	}
	spec := *d.Spec.Template.Spec.DeepCopy()
	spec.NodeName = node
	return e.RunPod(ctx, t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-1-a", Labels: d.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
		Spec: spec,
	}, status)
}
