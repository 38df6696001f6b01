package testenv

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// notReadyTaint is the taint the API server's TaintNodesByCondition
// admission puts on every new Node; kube-controller-manager, which does not
// run here, would remove it once the Node is Ready.
const notReadyTaint = "node.kubernetes.io/not-ready"

// defaultWait bounds WaitScheduled when ctx has no deadline.
const defaultWait = time.Minute

// AddNode registers a Node the scheduler will place Pods on: labels
// kubernetes.io/arch=arch, kubernetes.io/os=linux and
// kubernetes.io/hostname=name, then labels (which win on conflict); the
// given taints; status Ready with 8 CPUs, 32Gi of memory and 110 pods
// allocatable. No kubelet runs: Pods are bound, never started.
func (e *Env) AddNode(ctx context.Context, t testing.TB, name, arch string, labels map[string]string, taints []corev1.Taint) *corev1.Node {
	t.Helper()
	nodeLabels := map[string]string{
		corev1.LabelArchStable: arch,
		corev1.LabelOSStable:   "linux",
		corev1.LabelHostname:   name,
	}
	maps.Copy(nodeLabels, labels)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	now := metav1.Now()
	status := corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type:               corev1.NodeReady,
			Status:             corev1.ConditionTrue,
			Reason:             "KubeletReady",
			Message:            "archway testenv node",
			LastHeartbeatTime:  now,
			LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}},
		NodeInfo: corev1.NodeSystemInfo{
			Architecture:    arch,
			OperatingSystem: "linux",
			KubeletVersion:  KubernetesVersion,
		},
	}
	nodes := e.Client.CoreV1().Nodes()
	_, err := nodes.Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels},
		Spec:       corev1.NodeSpec{Taints: taints},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: create node %s: %v", name, err)
	}
	// Do what the kubelet and the node lifecycle controller would: report
	// Ready with capacity, then lift the not-ready taint.
	var node *corev1.Node
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status = status
		n, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		n.Spec.Taints = withoutTaint(n.Spec.Taints, notReadyTaint)
		node, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("testenv: make node %s ready: %v", name, err)
	}
	return node
}

// withoutTaint returns taints without those with key.
func withoutTaint(taints []corev1.Taint, key string) []corev1.Taint {
	var kept []corev1.Taint
	for _, taint := range taints {
		if taint.Key != key {
			kept = append(kept, taint)
		}
	}
	return kept
}

// WaitScheduled waits until the Pod namespace/pod is bound to a Node and
// returns the Node's name. It needs Options.Scheduler. Without a deadline
// on ctx it gives up after a minute; the error then carries the scheduler's
// last reason (for example "0/2 nodes are available: ...").
func (e *Env) WaitScheduled(ctx context.Context, namespace, pod string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultWait)
		defer cancel()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	// last is the scheduler's latest word on the Pod; a failed Get near the
	// deadline does not replace it.
	last := "no answer from the API server"
	for {
		p, err := e.Client.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
		switch {
		case err == nil && p.Spec.NodeName != "":
			return p.Spec.NodeName, nil
		case err == nil:
			last = "not bound yet"
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					last = c.Reason + ": " + c.Message
				}
			}
		case apierrors.IsNotFound(err):
			return "", fmt.Errorf("wait for pod %s/%s to be scheduled: %w", namespace, pod, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for pod %s/%s to be scheduled: %w (last: %s)", namespace, pod, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Namespace creates the namespace name and its "default" ServiceAccount
// (which kube-controller-manager, not running here, would create).
func (e *Env) Namespace(ctx context.Context, t testing.TB, name string) {
	t.Helper()
	_, err := e.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: create namespace %s: %v", name, err)
	}
	_, err = e.Client.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("testenv: create service account %s/default: %v", name, err)
	}
}
