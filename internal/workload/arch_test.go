package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func archTerm(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: ArchLabel, Operator: op, Values: values},
	}}
}

func withTerms(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func TestPodArchitectures(t *testing.T) {
	zoneTerm := corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
	}}
	tests := []struct {
		name string
		spec *corev1.PodSpec
		want []string
	}{
		{name: "nil spec", spec: nil, want: nil},
		{name: "unconstrained", spec: &corev1.PodSpec{}, want: nil},
		{name: "nodeSelector", spec: &corev1.PodSpec{NodeSelector: map[string]string{ArchLabel: "arm64"}}, want: []string{"arm64"}},
		{name: "legacy label", spec: &corev1.PodSpec{NodeSelector: map[string]string{"beta.kubernetes.io/arch": "amd64"}}, want: []string{"amd64"}},
		{name: "In", spec: &corev1.PodSpec{Affinity: withTerms(archTerm(corev1.NodeSelectorOpIn, "amd64", "arm64"))}, want: []string{"amd64", "arm64"}},
		{name: "NotIn", spec: &corev1.PodSpec{Affinity: withTerms(archTerm(corev1.NodeSelectorOpNotIn, "arm64", "arm", "386", "ppc64le", "riscv64", "s390x"))}, want: []string{"amd64"}},
		{name: "terms are OR-ed", spec: &corev1.PodSpec{Affinity: withTerms(archTerm(corev1.NodeSelectorOpIn, "amd64"), archTerm(corev1.NodeSelectorOpIn, "arm64"))}, want: []string{"amd64", "arm64"}},
		{name: "a term without arch leaves it open", spec: &corev1.PodSpec{Affinity: withTerms(archTerm(corev1.NodeSelectorOpIn, "amd64"), zoneTerm)}, want: nil},
		{name: "nodeSelector AND affinity", spec: &corev1.PodSpec{NodeSelector: map[string]string{ArchLabel: "arm64"}, Affinity: withTerms(archTerm(corev1.NodeSelectorOpIn, "amd64", "arm64"))}, want: []string{"arm64"}},
		{name: "conflict allows nothing", spec: &corev1.PodSpec{NodeSelector: map[string]string{ArchLabel: "arm64"}, Affinity: withTerms(archTerm(corev1.NodeSelectorOpIn, "amd64"))}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PodArchitectures(tt.spec)); diff != "" {
				t.Errorf("PodArchitectures mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImagesDedupes(t *testing.T) {
	w := Workload{Containers: []Container{{Image: "a"}, {Image: "b"}, {Image: "a"}, {Image: ""}}}
	if diff := cmp.Diff([]string{"a", "b"}, w.Images()); diff != "" {
		t.Errorf("Images mismatch (-want +got):\n%s", diff)
	}
}
