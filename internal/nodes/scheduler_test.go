package nodes

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/testenv"
)

// TestFitAgreesWithScheduler builds a node from every group template (the
// eksctl groups and the Karpenter NodePool of testdata/fit-groups.yaml),
// creates a pod from every workload of testdata/fit-workloads.yaml, and
// checks kube-scheduler binds each pod to a node Fit said admits it, or
// leaves it Unschedulable exactly when Fit said no node admits it.
func TestFitAgreesWithScheduler(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Scheduler: true})
	ctx := t.Context()
	groups := read(t, "fit-groups.yaml")
	for _, g := range groups {
		for _, n := range g.Templates() {
			env.AddNode(ctx, t, n.Name, n.Labels[corev1.LabelArchStable], n.Labels, n.Spec.Taints)
		}
	}
	env.Namespace(ctx, t, "fit")

	workloads := fitWorkloads(t)
	fits := Fit(workloads, groups, fitImages)
	if len(fits) != len(workloads) {
		t.Fatalf("%d fits for %d workloads", len(fits), len(workloads))
	}
	names := make([]string, len(fits))
	for i, w := range workloads {
		names[i] = strings.ToLower(w.Kind + "-" + w.Name)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: names[i], Namespace: "fit"}, Spec: *w.PodSpec.DeepCopy()}
		if _, err := env.Client.CoreV1().Pods("fit").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod for %s: %v", w.ID(), err)
		}
	}
	pendingSeen, boundSeen := 0, 0
	for i, f := range fits {
		var admits []string // template node names Fit says admit the pod
		for _, l := range f.Landings {
			if l.Schedules {
				admits = append(admits, l.Group+"-"+l.Arch)
			}
		}
		node, reason := waitDecision(ctx, t, env, names[i])
		switch {
		case node == "" && len(admits) > 0:
			t.Errorf("%s: scheduler left it pending (%s); Fit predicted %v", f.Workload, reason, admits)
		case node != "" && !slices.Contains(admits, node):
			t.Errorf("%s: scheduler bound it to %s; Fit predicted %v", f.Workload, node, admits)
		case node == "":
			pendingSeen++
		default:
			boundSeen++
		}
	}
	if pendingSeen != 1 || boundSeen != len(fits)-1 {
		t.Errorf("%d pods pending and %d bound; the cases have one pending (needs-gpu)", pendingSeen, boundSeen)
	}
}

// waitDecision waits until the pod is bound (returning the node) or the
// scheduler has marked it Unschedulable (returning "" and its message).
func waitDecision(ctx context.Context, t *testing.T, env *testenv.Env, name string) (node, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		p, err := env.Client.CoreV1().Pods("fit").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("pod %s: %v", name, err)
		}
		if p.Spec.NodeName != "" {
			return p.Spec.NodeName, ""
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return "", c.Message
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod %s: no scheduling decision: %v", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
