package workload

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// ArchLabel is the well-known node label holding a node's CPU architecture.
const ArchLabel = "kubernetes.io/arch"

// legacyArchLabel is the deprecated label some older manifests still use.
const legacyArchLabel = "beta.kubernetes.io/arch"

// KnownArchitectures are the values kubernetes.io/arch takes on the nodes
// archway reasons about; NotIn constraints are resolved against them.
var KnownArchitectures = []string{"386", "amd64", "arm", "arm64", "ppc64le", "riscv64", "s390x"}

// PodArchitectures returns the architectures a pod spec's nodeSelector and
// required node affinity allow, sorted, or nil when they do not constrain
// the architecture at all. Node-selector terms are OR-ed, so the result is
// the union over terms; a term that does not mention the architecture
// allows every architecture. nodeSelector is AND-ed with the affinity.
func PodArchitectures(spec *corev1.PodSpec) []string {
	if spec == nil {
		return nil
	}
	allowed := slices.Clone(KnownArchitectures)
	constrained := false
	for _, key := range []string{ArchLabel, legacyArchLabel} {
		if v, ok := spec.NodeSelector[key]; ok {
			allowed = intersect(allowed, []string{v})
			constrained = true
		}
	}
	if terms := requiredTerms(spec); len(terms) > 0 {
		var union []string
		termsConstrain := true
		for _, term := range terms {
			archs, ok := termArchitectures(term)
			if !ok {
				termsConstrain = false
				break
			}
			for _, a := range archs {
				if !slices.Contains(union, a) {
					union = append(union, a)
				}
			}
		}
		if termsConstrain {
			allowed = intersect(allowed, union)
			constrained = true
		}
	}
	if !constrained {
		return nil
	}
	if allowed == nil {
		allowed = []string{} // constrained to nothing: no node fits
	}
	slices.Sort(allowed)
	return allowed
}

func requiredTerms(spec *corev1.PodSpec) []corev1.NodeSelectorTerm {
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
}

// termArchitectures returns what one node-selector term allows; ok is false
// when the term does not constrain the architecture.
func termArchitectures(term corev1.NodeSelectorTerm) (archs []string, ok bool) {
	archs = slices.Clone(KnownArchitectures)
	for _, req := range term.MatchExpressions {
		if req.Key != ArchLabel && req.Key != legacyArchLabel {
			continue
		}
		switch req.Operator {
		case corev1.NodeSelectorOpIn:
			archs = intersect(archs, req.Values)
			ok = true
		case corev1.NodeSelectorOpNotIn:
			archs = slices.DeleteFunc(archs, func(a string) bool { return slices.Contains(req.Values, a) })
			ok = true
		case corev1.NodeSelectorOpDoesNotExist:
			archs, ok = nil, true
		}
	}
	return archs, ok
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
