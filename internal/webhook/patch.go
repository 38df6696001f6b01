package webhook

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/archwaydev/archway/internal/workload"
)

// added is what archway added to a pod's placement, recorded as JSON in
// the AddedAnnotationKey annotation.
type added struct {
	// Tolerations were appended to spec.tolerations.
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Required was AND-ed into the required node-affinity terms (or made
	// the only term).
	Required *corev1.NodeSelectorRequirement `json:"required,omitempty"`
	// NodeSelector is the kubernetes.io/arch value set in spec.nodeSelector.
	NodeSelector string `json:"nodeSelector,omitempty"`
	// Preferred were appended to the preferred node-affinity terms.
	Preferred []corev1.PreferredSchedulingTerm `json:"preferred,omitempty"`
}

// addedOf returns what the pod's annotation says archway added, or nil.
func addedOf(pod *corev1.Pod) *added {
	v, ok := pod.Annotations[AddedAnnotationKey]
	if !ok {
		return nil
	}
	var a added
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		return nil // not archway's writing: nothing to take back
	}
	return &a
}

// addedBy returns what placement added to base to make placed; Place only
// appends, so the additions are the tails and the new arch expression.
func addedBy(base, placed *corev1.PodSpec) *added {
	a := &added{}
	if len(placed.Tolerations) > len(base.Tolerations) {
		a.Tolerations = slices.Clone(placed.Tolerations[len(base.Tolerations):])
	}
	if v := placed.NodeSelector[workload.ArchLabel]; v != "" && base.NodeSelector[workload.ArchLabel] == "" {
		a.NodeSelector = v
	}
	baseTerms, placedTerms := requiredTerms(base), requiredTerms(placed)
	for i, term := range placedTerms {
		var before []corev1.NodeSelectorRequirement
		if i < len(baseTerms) {
			before = baseTerms[i].MatchExpressions
		}
		if len(term.MatchExpressions) > len(before) {
			req := term.MatchExpressions[len(term.MatchExpressions)-1]
			a.Required = req.DeepCopy()
			break
		}
	}
	if bp, pp := preferredTerms(base), preferredTerms(placed); len(pp) > len(bp) {
		a.Preferred = slices.Clone(pp[len(bp):])
	}
	if reflect.DeepEqual(a, &added{}) {
		return nil
	}
	return a
}

// revert returns a copy of spec without what a added, and whether anything
// was taken out.
func revert(spec *corev1.PodSpec, a *added) (corev1.PodSpec, bool) {
	out := *spec.DeepCopy()
	if a == nil {
		return out, false
	}
	changed := false
	for _, tol := range a.Tolerations {
		if i := slices.IndexFunc(out.Tolerations, func(t corev1.Toleration) bool { return reflect.DeepEqual(t, tol) }); i >= 0 {
			out.Tolerations = slices.Delete(out.Tolerations, i, i+1)
			changed = true
		}
	}
	if len(out.Tolerations) == 0 && len(spec.Tolerations) > 0 {
		out.Tolerations = nil
	}
	if a.NodeSelector != "" && out.NodeSelector[workload.ArchLabel] == a.NodeSelector {
		delete(out.NodeSelector, workload.ArchLabel)
		if len(out.NodeSelector) == 0 {
			out.NodeSelector = nil
		}
		changed = true
	}
	na := nodeAffinity(&out)
	affinity := false // archway's node affinity taken out
	if a.Required != nil && na != nil && na.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		sel := na.RequiredDuringSchedulingIgnoredDuringExecution
		var terms []corev1.NodeSelectorTerm
		for _, term := range sel.NodeSelectorTerms {
			n := len(term.MatchExpressions)
			term.MatchExpressions = slices.DeleteFunc(term.MatchExpressions, func(r corev1.NodeSelectorRequirement) bool {
				return reflect.DeepEqual(r, *a.Required)
			})
			if len(term.MatchExpressions) == n {
				terms = append(terms, term)
				continue
			}
			changed, affinity = true, true
			if len(term.MatchExpressions) == 0 {
				term.MatchExpressions = nil
			}
			if len(term.MatchExpressions) > 0 || len(term.MatchFields) > 0 {
				terms = append(terms, term) // a term archway emptied goes: archway made it
			}
		}
		if affinity {
			sel.NodeSelectorTerms = terms
			if len(terms) == 0 {
				na.RequiredDuringSchedulingIgnoredDuringExecution = nil
			}
		}
	}
	if len(a.Preferred) > 0 && na != nil {
		for _, pref := range a.Preferred {
			if i := slices.IndexFunc(na.PreferredDuringSchedulingIgnoredDuringExecution, func(t corev1.PreferredSchedulingTerm) bool { return reflect.DeepEqual(t, pref) }); i >= 0 {
				na.PreferredDuringSchedulingIgnoredDuringExecution = slices.Delete(na.PreferredDuringSchedulingIgnoredDuringExecution, i, i+1)
				changed, affinity = true, true
			}
		}
		if len(na.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
			na.PreferredDuringSchedulingIgnoredDuringExecution = nil
		}
	}
	if affinity && reflect.DeepEqual(*na, corev1.NodeAffinity{}) { // archway emptied it: it made it
		out.Affinity.NodeAffinity = nil
		if reflect.DeepEqual(*out.Affinity, corev1.Affinity{}) {
			out.Affinity = nil
		}
	}
	return out, changed
}

func nodeAffinity(spec *corev1.PodSpec) *corev1.NodeAffinity {
	if spec.Affinity == nil {
		return nil
	}
	return spec.Affinity.NodeAffinity
}

func requiredTerms(spec *corev1.PodSpec) []corev1.NodeSelectorTerm {
	if na := nodeAffinity(spec); na != nil && na.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		return na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	}
	return nil
}

func preferredTerms(spec *corev1.PodSpec) []corev1.PreferredSchedulingTerm {
	if na := nodeAffinity(spec); na != nil {
		return na.PreferredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// change is what one admission does to a pod.
type change struct {
	// spec holds the placement fields (affinity, tolerations,
	// nodeSelector) the pod ends up with; its other fields are ignored.
	spec corev1.PodSpec
	// annotation is the new value of AnnotationKey; "" leaves it as is.
	annotation string
	// added is recorded in AddedAnnotationKey; nil removes the record.
	added *added
	// reverted says archway took back what it added before.
	reverted bool
	// keepAdded leaves AddedAnnotationKey as it is.
	keepAdded bool
}

// patch returns the JSON patch that makes ch on raw, the object pod was
// decoded from. It addresses only spec.affinity, spec.tolerations,
// spec.nodeSelector and archway's annotations, so every other field of the
// raw object, known to this build or not, is left as it was. Where raw has
// no spec or metadata object (absent or null), the patch adds one holding
// the new fields, since a JSON patch cannot add below a missing member.
func (ch change) patch(pod *corev1.Pod, raw []byte) ([]jsonpatch.Operation, error) {
	var ops []jsonpatch.Operation
	affinity, err := affinityOps(pod.Spec.Affinity, ch.spec.Affinity)
	if err != nil {
		return nil, err
	}
	ops = append(ops, affinity...)
	ops = append(ops, tolerationOps(pod.Spec.Tolerations, ch.spec.Tolerations)...)
	ops = append(ops, mapOps("/spec/nodeSelector", pod.Spec.NodeSelector, ch.spec.NodeSelector)...)

	want := maps.Clone(pod.Annotations)
	if want == nil {
		want = map[string]string{}
	}
	if ch.annotation != "" {
		want[AnnotationKey] = ch.annotation
	}
	if !ch.keepAdded {
		delete(want, AddedAnnotationKey)
		if ch.added != nil {
			b, err := json.Marshal(ch.added)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", AddedAnnotationKey, err)
			}
			want[AddedAnnotationKey] = string(b)
		}
	}
	ops = append(ops, mapOps("/metadata/annotations", pod.Annotations, want)...)
	members := objectMembers(raw)
	ops = underMissing(ops, "/spec", members["spec"])
	ops = underMissing(ops, "/metadata", members["metadata"])
	return ops, nil
}

// objectMembers returns which members of the JSON object raw are objects
// themselves, read as the API server reads them (keys case-sensitive, the
// last of duplicates).
func objectMembers(raw []byte) map[string]bool {
	var members map[string]json.RawMessage
	if err := utiljson.Unmarshal(raw, &members); err != nil {
		return nil
	}
	out := make(map[string]bool, len(members))
	for k, v := range members {
		out[k] = len(v) > 0 && v[0] == '{'
	}
	return out
}

// underMissing folds the operations below parent, a member the object does
// not have, into one that adds it. They are all adds of its direct
// children: with no parent the pod's fields there were empty.
func underMissing(ops []jsonpatch.Operation, parent string, present bool) []jsonpatch.Operation {
	if present {
		return ops
	}
	value := map[string]any{}
	out := ops[:0:0]
	for _, op := range ops {
		if child, ok := strings.CutPrefix(op.Path, parent+"/"); ok && op.Operation == "add" {
			value[unescape(child)] = op.Value
			continue
		}
		out = append(out, op)
	}
	if len(value) == 0 {
		return ops
	}
	return append(out, jsonpatch.NewOperation("add", parent, value))
}

// affinityOps patches spec.affinity from before to after.
func affinityOps(before, after *corev1.Affinity) ([]jsonpatch.Operation, error) {
	switch {
	case reflect.DeepEqual(before, after):
		return nil, nil
	case after == nil:
		return []jsonpatch.Operation{jsonpatch.NewOperation("remove", "/spec/affinity", nil)}, nil
	case before == nil:
		return []jsonpatch.Operation{jsonpatch.NewOperation("add", "/spec/affinity", after)}, nil
	}
	a, err := json.Marshal(before)
	if err != nil {
		return nil, fmt.Errorf("encode affinity: %w", err)
	}
	b, err := json.Marshal(after)
	if err != nil {
		return nil, fmt.Errorf("encode affinity: %w", err)
	}
	ops, err := jsonpatch.CreatePatch(a, b)
	if err != nil {
		return nil, fmt.Errorf("affinity patch: %w", err)
	}
	for i := range ops {
		ops[i].Path = "/spec/affinity" + ops[i].Path
	}
	return ops, nil
}

// tolerationOps patches spec.tolerations from before to after, where after
// is before less some tolerations plus some appended: removals by index
// (highest first), then appends, so tolerations archway leaves alone are
// never rewritten.
func tolerationOps(before, after []corev1.Toleration) []jsonpatch.Operation {
	const path = "/spec/tolerations"
	switch {
	case reflect.DeepEqual(before, after) || len(before) == 0 && len(after) == 0:
		return nil
	case len(after) == 0:
		return []jsonpatch.Operation{jsonpatch.NewOperation("remove", path, nil)}
	case before == nil:
		return []jsonpatch.Operation{jsonpatch.NewOperation("add", path, after)}
	}
	var removed []int
	j := 0
	for i := range before {
		if j < len(after) && reflect.DeepEqual(before[i], after[j]) {
			j++
			continue
		}
		removed = append(removed, i)
	}
	var ops []jsonpatch.Operation
	for k := len(removed) - 1; k >= 0; k-- {
		ops = append(ops, jsonpatch.NewOperation("remove", fmt.Sprintf("%s/%d", path, removed[k]), nil))
	}
	for _, t := range after[j:] {
		ops = append(ops, jsonpatch.NewOperation("add", path+"/-", t))
	}
	return ops
}

// mapOps patches the string map at path from before to after, key by key.
func mapOps(path string, before, after map[string]string) []jsonpatch.Operation {
	if maps.Equal(before, after) {
		return nil
	}
	if len(after) == 0 {
		return []jsonpatch.Operation{jsonpatch.NewOperation("remove", path, nil)}
	}
	if before == nil {
		return []jsonpatch.Operation{jsonpatch.NewOperation("add", path, after)}
	}
	var ops []jsonpatch.Operation
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			ops = append(ops, jsonpatch.NewOperation("remove", path+"/"+escape(k), nil))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if v, ok := before[k]; !ok || v != after[k] {
			ops = append(ops, jsonpatch.NewOperation("add", path+"/"+escape(k), after[k]))
		}
	}
	return ops
}

// escape escapes a JSON pointer token (RFC 6901).
func escape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// unescape undoes escape.
func unescape(s string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}
