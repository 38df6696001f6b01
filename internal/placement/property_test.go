package placement

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// genSpec builds a random pod spec from a small vocabulary so that the
// interesting collisions (arch expressions, empty terms, matchFields,
// existing tolerations) happen often.
func genSpec(r *rand.Rand) corev1.PodSpec {
	imgs := []string{"multi", "amd", "arm", "v7", "broken", "nowhere"}
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var s corev1.PodSpec
	for i := range 1 + r.IntN(3) {
		s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprint("c", i), Image: imgs[r.IntN(4)]})
	}
	if r.IntN(4) == 0 {
		s.InitContainers = []corev1.Container{{Name: "init", Image: imgs[r.IntN(4)]}}
	}
	if r.IntN(6) == 0 {
		s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: imgs[r.IntN(len(imgs))]}}}
	}
	if r.IntN(3) == 0 {
		s.NodeSelector = map[string]string{}
		if r.IntN(2) == 0 {
			s.NodeSelector[pick(arch, "beta.kubernetes.io/arch")] = pick("amd64", "arm64", "arm")
		}
		if r.IntN(2) == 0 {
			s.NodeSelector["zone"] = pick("a", "b")
		}
	}
	genReq := func(field bool) corev1.NodeSelectorRequirement {
		if field {
			return expr("metadata.name", corev1.NodeSelectorOpIn, pick("n0", "n1", "n2"))
		}
		key := pick(arch, "zone", "beta.kubernetes.io/arch")
		op := []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist}[r.IntN(4)]
		var vals []string
		if op == corev1.NodeSelectorOpIn || op == corev1.NodeSelectorOpNotIn {
			for range 1 + r.IntN(2) {
				if key == "zone" {
					vals = append(vals, pick("a", "b"))
				} else {
					vals = append(vals, pick("amd64", "arm64", "arm"))
				}
			}
		}
		return expr(key, op, vals...)
	}
	if r.IntN(2) == 0 {
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
		if r.IntN(4) != 0 {
			sel := &corev1.NodeSelector{}
			for range r.IntN(4) {
				var t corev1.NodeSelectorTerm
				for range r.IntN(3) {
					t.MatchExpressions = append(t.MatchExpressions, genReq(false))
				}
				if r.IntN(4) == 0 {
					t.MatchFields = append(t.MatchFields, genReq(true))
				}
				sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, t)
			}
			s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
		}
		if r.IntN(3) == 0 {
			s.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.PreferredSchedulingTerm{
				{Weight: 10, Preference: term(in(pick("amd64", "arm64")))},
			}
		}
	}
	for range r.IntN(3) {
		s.Tolerations = append(s.Tolerations, []corev1.Toleration{
			armToleration,
			{Operator: corev1.TolerationOpExists},
			{Key: "arm", Operator: corev1.TolerationOpExists},
			{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
			{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoExecute},
		}[r.IntN(5)])
	}
	return s
}

func genOptions(r *rand.Rand) Options {
	var o Options
	switch r.IntN(4) {
	case 1:
		o.ClusterArchs = []string{"amd64"}
	case 2:
		o.ClusterArchs = []string{"amd64", "arm64", "arm"}
	}
	if r.IntN(2) == 0 {
		o.ArmTaint = armTaint
	}
	if r.IntN(2) == 0 {
		o.Prefer = map[string]int32{"arm64": 80}
	}
	if r.IntN(2) == 0 {
		o.Style = StyleNodeSelector
	}
	return o
}

// testNodes is every combination of the labels the generator uses.
func testNodes() []map[string]string {
	var out []map[string]string
	i := 0
	for _, a := range []string{"amd64", "arm64", "arm", "s390x", ""} {
		for _, z := range []string{"a", "b", ""} {
			l := map[string]string{"metadata.name": fmt.Sprint("n", i%3)}
			if a != "" {
				l[arch] = a
				l["beta.kubernetes.io/arch"] = a
			}
			if z != "" {
				l["zone"] = z
			}
			out = append(out, l)
			i++
		}
	}
	return out
}

// matches is the scheduler's required node-affinity rule (nodeSelector AND
// any of the terms), the oracle for "placement never loosens".
func matches(s *corev1.PodSpec, node map[string]string) bool {
	for k, v := range s.NodeSelector {
		if node[k] != v {
			return false
		}
	}
	terms := requiredTerms(s)
	if s.Affinity == nil || s.Affinity.NodeAffinity == nil || s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, t := range terms {
		if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
			continue // an empty term matches nothing
		}
		ok := true
		for _, req := range append(slices.Clone(t.MatchExpressions), t.MatchFields...) {
			v, has := node[req.Key]
			switch req.Operator {
			case corev1.NodeSelectorOpIn:
				ok = ok && has && slices.Contains(req.Values, v)
			case corev1.NodeSelectorOpNotIn:
				ok = ok && (!has || !slices.Contains(req.Values, v))
			case corev1.NodeSelectorOpExists:
				ok = ok && has
			case corev1.NodeSelectorOpDoesNotExist:
				ok = ok && !has
			default:
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestPlaceProperties(t *testing.T) {
	nodes := testNodes()
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		for i := range 500 {
			spec := genSpec(r)
			opts := genOptions(r)
			checkProperties(t, fmt.Sprintf("seed %d case %d", seed, i), &spec, opts, nodes)
		}
	}
}

func checkProperties(t *testing.T, name string, spec *corev1.PodSpec, opts Options, nodes []map[string]string) {
	t.Helper()
	orig := spec.DeepCopy()
	got := Place(spec, images, opts)
	if !reflect.DeepEqual(orig, spec) {
		t.Fatalf("%s: Place modified its input", name)
	}
	if got.Changed != !reflect.DeepEqual(spec, &got.Spec) {
		t.Fatalf("%s: Changed = %v disagrees with the spec", name, got.Changed)
	}
	if got.Changed && len(got.Summary) == 0 {
		t.Fatalf("%s: changed without a summary", name)
	}
	if (got.Skipped != "" || slices.ContainsFunc(got.Findings, func(f string) bool { return f == "no architecture runs every container" })) && got.Changed {
		t.Fatalf("%s: skipped or S = ∅ but changed", name)
	}
	again := Place(&got.Spec, images, opts)
	if again.Changed {
		t.Fatalf("%s: not idempotent:\nfirst: %+v\n%s", name, got.Summary, cmp.Diff(got.Spec, again.Spec))
	}
	for _, n := range nodes {
		placed, before := matches(&got.Spec, n), matches(spec, n)
		if placed && !before {
			t.Fatalf("%s: placement loosened the constraints: node %v now matches\nbefore: %+v\nafter:  %+v", name, n, spec.Affinity, got.Spec.Affinity)
		}
	}
	if len(got.Findings) == 0 && got.Allowed != nil {
		// When placement is complete, every cluster node the pod can land on runs it.
		cluster := opts.ClusterArchs
		if cluster == nil {
			cluster = DefaultClusterArchs
		}
		for _, n := range nodes {
			if !slices.Contains(cluster, n[arch]) {
				continue // the cluster has no such node
			}
			if matches(&got.Spec, n) && !slices.Contains(got.Allowed, n[arch]) {
				t.Fatalf("%s: no findings, yet the pod may land on %s outside S %v", name, n[arch], got.Allowed)
			}
		}
	}
}
