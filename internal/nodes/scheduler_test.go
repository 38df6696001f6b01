package nodes

import (
	"context"
	"fmt"
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
				admits = append(admits, l.Node)
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

	// Each workload pinned to each node in turn (kubernetes.io/hostname
	// AND-ed into its required node affinity): the scheduler binds it
	// exactly when Fit says that node admits it.
	type pinned struct{ pod, workload, node string }
	var cases []pinned
	for i, f := range fits {
		for j, l := range f.Landings {
			name := fmt.Sprintf("pin-%d-%d", i, j)
			spec := pinTo(workloads[i].PodSpec, l.Node)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "fit"}, Spec: *spec}
			if _, err := env.Client.CoreV1().Pods("fit").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create pod %s: %v", name, err)
			}
			cases = append(cases, pinned{name, f.Workload, l.Node})
		}
	}
	agree := 0
	for i, c := range cases {
		want := fits[i/len(fits[0].Landings)].Landings[i%len(fits[0].Landings)].Schedules
		node, reason := waitDecision(ctx, t, env, c.pod)
		if got := node != ""; got != want {
			t.Errorf("%s on %s: scheduler bound=%v (%s), Fit predicted %v", c.workload, c.node, got, reason, want)
			continue
		}
		agree++
	}
	if agree != len(cases) || len(cases) != len(fits)*6 {
		t.Errorf("%d of %d pinned cases agree (want %d cases: every workload on every one of 6 nodes)", agree, len(cases), len(fits)*6)
	}

	// The same nodes read back from the API server as live groups give
	// the same prediction for every workload.
	live, err := ReadCluster(ctx, env.Client, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	var liveNames []string
	for _, g := range live {
		liveNames = append(liveNames, g.Name)
	}
	wantNames := []string{"alpha.eksctl.io/nodegroup-name=x86", "alpha.eksctl.io/nodegroup-name=arm", "alpha.eksctl.io/nodegroup-name=arm-open", "eks.amazonaws.com/nodegroup=arm-soft", "karpenter.sh/nodepool=spot"}
	slices.Sort(liveNames)
	slices.Sort(wantNames)
	if !slices.Equal(liveNames, wantNames) {
		t.Errorf("live groups %v, want %v", liveNames, wantNames)
	}
	for i, lf := range Fit(workloads, live, fitImages) {
		if a, b := admitted(fits[i]), admitted(lf); !slices.Equal(a, b) {
			t.Errorf("%s: templates admit %v, live nodes admit %v", lf.Workload, a, b)
		}
	}
}

// pinTo returns a copy of spec that only node admits besides its own
// constraints: kubernetes.io/hostname In [node] AND-ed into every required
// node-selector term.
func pinTo(spec *corev1.PodSpec, node string) *corev1.PodSpec {
	s := spec.DeepCopy()
	req := corev1.NodeSelectorRequirement{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}
	if s.Affinity == nil {
		s.Affinity = &corev1.Affinity{}
	}
	if s.Affinity.NodeAffinity == nil {
		s.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := s.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{}}}
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i := range terms {
		terms[i].MatchExpressions = append(terms[i].MatchExpressions, req)
	}
	return s
}

// admitted returns the sorted names of the nodes a fit says admit the pod.
func admitted(f WorkloadFit) []string {
	var out []string
	for _, l := range f.Landings {
		if l.Schedules {
			out = append(out, l.Node)
		}
	}
	slices.Sort(out)
	return out
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
