package placement

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

const arch = "kubernetes.io/arch"

var (
	multi   = linux("amd64", "arm64")
	amdOnly = linux("amd64")
	armOnly = linux("aarch64") // normalised to arm64
	armv7   = linux("arm")
	images  = map[string]lookup.Result{
		"multi": multi, "amd": amdOnly, "arm": armOnly, "v7": armv7,
		"broken": {Err: errors.New("registry: not found")},
	}
	armTaint = &corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}
)

func pod(imgs ...string) corev1.PodSpec {
	var s corev1.PodSpec
	for _, i := range imgs {
		s.Containers = append(s.Containers, corev1.Container{Name: "c-" + i, Image: i})
	}
	return s
}

func in(vals ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: arch, Operator: corev1.NodeSelectorOpIn, Values: vals}
}

func expr(key string, op corev1.NodeSelectorOperator, vals ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: vals}
}

func required(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func term(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: reqs}
}

var armToleration = corev1.Toleration{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}

func TestPlace(t *testing.T) {
	tests := []struct {
		name         string
		spec         func() corev1.PodSpec
		opts         Options
		want         func(s *corev1.PodSpec) // applied to a copy of the input; nil = unchanged
		wantAllowed  []string
		wantFindings []string // substrings, one per finding
		wantSkipped  string   // substring
	}{
		{
			name:        "multi-arch needs nothing",
			spec:        func() corev1.PodSpec { return pod("multi") },
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name:        "multi-arch gets the arm toleration",
			spec:        func() corev1.PodSpec { return pod("multi", "multi") },
			opts:        Options{ArmTaint: armTaint},
			want:        func(s *corev1.PodSpec) { s.Tolerations = []corev1.Toleration{armToleration} },
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "multi-arch with preference",
			spec: func() corev1.PodSpec { return pod("multi") },
			opts: Options{Prefer: map[string]int32{"arm64": 80, "s390x": 10}},
			want: func(s *corev1.PodSpec) {
				s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
					{Weight: 80, Preference: term(in("arm64"))},
				}}}
			},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "amd64-only gets a required term and no toleration",
			spec: func() corev1.PodSpec { return pod("amd", "multi") },
			opts: Options{ArmTaint: armTaint, Prefer: map[string]int32{"arm64": 80}},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("amd64")))
			},
			wantAllowed: []string{"amd64"},
		},
		{
			name: "arm64-only gets required term and toleration",
			spec: func() corev1.PodSpec { return pod("arm") },
			opts: Options{ArmTaint: armTaint},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("arm64")))
				s.Tolerations = []corev1.Toleration{armToleration}
			},
			wantAllowed: []string{"arm64"},
		},
		{
			name: "node-selector style with one arch",
			spec: func() corev1.PodSpec { s := pod("amd"); s.NodeSelector = map[string]string{"disk": "ssd"}; return s },
			opts: Options{Style: StyleNodeSelector},
			want: func(s *corev1.PodSpec) {
				s.NodeSelector = map[string]string{"disk": "ssd", arch: "amd64"}
			},
			wantAllowed: []string{"amd64"},
		},
		{
			name: "node-selector style with two archs falls back to affinity",
			spec: func() corev1.PodSpec { return pod("multi") },
			opts: Options{Style: StyleNodeSelector, ClusterArchs: []string{"amd64", "arm64", "s390x"}},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("amd64", "arm64")))
			},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "existing nodeSelector pin within S: no arch change",
			spec: func() corev1.PodSpec { s := pod("multi"); s.NodeSelector = map[string]string{arch: "arm64"}; return s },
			opts: Options{ArmTaint: armTaint},
			want: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{armToleration}
			},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "existing nodeSelector pin conflicts",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.NodeSelector = map[string]string{"beta.kubernetes.io/arch": "arm64"}
				return s
			},
			opts:         Options{ArmTaint: armTaint},
			wantAllowed:  []string{"amd64"},
			wantFindings: []string{"allows [arm64], but only [amd64]"},
		},
		{
			name: "several terms each get the requirement",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.Affinity = required(
					term(expr("zone", corev1.NodeSelectorOpIn, "a")),
					term(expr("zone", corev1.NodeSelectorOpIn, "b"), expr("gpu", corev1.NodeSelectorOpDoesNotExist)),
				)
				return s
			},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(
					term(expr("zone", corev1.NodeSelectorOpIn, "a"), in("amd64")),
					term(expr("zone", corev1.NodeSelectorOpIn, "b"), expr("gpu", corev1.NodeSelectorOpDoesNotExist), in("amd64")),
				)
			},
			wantAllowed: []string{"amd64"},
		},
		{
			name: "matchFields-only term gets the expression; empty term left empty",
			spec: func() corev1.PodSpec {
				s := pod("arm")
				s.Affinity = required(
					corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpIn, "n1")}},
					corev1.NodeSelectorTerm{},
				)
				return s
			},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(
					corev1.NodeSelectorTerm{
						MatchExpressions: []corev1.NodeSelectorRequirement{in("arm64")},
						MatchFields:      []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpIn, "n1")},
					},
					corev1.NodeSelectorTerm{},
				)
			},
			wantAllowed: []string{"arm64"},
		},
		{
			name: "existing In within S is kept, other term gets it",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.Affinity = required(term(in("amd64")), term(expr("zone", corev1.NodeSelectorOpIn, "b")))
				return s
			},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("amd64")), term(expr("zone", corev1.NodeSelectorOpIn, "b"), in("amd64")))
			},
			wantAllowed: []string{"amd64"},
		},
		{
			name: "existing In wider than S conflicts",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.Affinity = required(term(in("amd64", "arm64")))
				return s
			},
			opts:         Options{ArmTaint: armTaint},
			wantAllowed:  []string{"amd64"},
			wantFindings: []string{"allows [amd64 arm64], but only [amd64]"},
		},
		{
			name: "one conflicting term among unconstrained ones",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.Affinity = required(term(in("arm64")), term(expr("zone", corev1.NodeSelectorOpIn, "b")))
				return s
			},
			wantAllowed:  []string{"amd64"},
			wantFindings: []string{"term allows kubernetes.io/arch [arm64]"},
		},
		{
			name: "existing NotIn amd64 leaves arm64 only: within S",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.Affinity = required(term(expr(arch, corev1.NodeSelectorOpNotIn, "amd64", "386", "arm", "ppc64le", "riscv64", "s390x")))
				return s
			},
			opts: Options{ArmTaint: armTaint, Prefer: map[string]int32{"arm64": 50}},
			want: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{armToleration}
			},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "existing NotIn arm64 conflicts with amd64-only",
			spec: func() corev1.PodSpec {
				s := pod("amd")
				s.Affinity = required(term(expr(arch, corev1.NodeSelectorOpNotIn, "arm64")))
				return s
			},
			wantAllowed:  []string{"amd64"},
			wantFindings: []string{"but only [amd64]"},
		},
		{
			name: "toleration already there (Equal)",
			spec: func() corev1.PodSpec { s := pod("arm"); s.Tolerations = []corev1.Toleration{armToleration}; return s },
			opts: Options{ArmTaint: armTaint},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("arm64")))
			},
			wantAllowed: []string{"arm64"},
		},
		{
			name: "toleration Exists on the key covers it",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.Tolerations = []corev1.Toleration{{Key: "arm", Operator: corev1.TolerationOpExists}}
				return s
			},
			opts:        Options{ArmTaint: armTaint},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "empty-key Exists tolerates everything",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
				return s
			},
			opts:        Options{ArmTaint: armTaint},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "tolerations for other keys or effects do not count",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.Tolerations = []corev1.Toleration{
					{Key: "gpu", Operator: corev1.TolerationOpExists},
					{Key: "arm", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
					{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "false"},
				}
				return s
			},
			opts: Options{ArmTaint: armTaint},
			want: func(s *corev1.PodSpec) {
				s.Tolerations = append(s.Tolerations, armToleration)
			},
			wantAllowed: []string{"amd64", "arm64"},
		},
		{
			name: "valueless taint gets an Exists toleration",
			spec: func() corev1.PodSpec { return pod("arm") },
			opts: Options{ArmTaint: &corev1.Taint{Key: "arch", Effect: corev1.TaintEffectNoExecute}},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("arm64")))
				s.Tolerations = []corev1.Toleration{{Key: "arch", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
			},
			wantAllowed: []string{"arm64"},
		},
		{
			name: "init-only mismatch restricts the pod",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.InitContainers = []corev1.Container{{Name: "migrate", Image: "amd"}}
				return s
			},
			opts: Options{ArmTaint: armTaint},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("amd64")))
			},
			wantAllowed: []string{"amd64"},
		},
		{
			name: "ephemeral container counts",
			spec: func() corev1.PodSpec {
				s := pod("multi")
				s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "arm"}}}
				return s
			},
			want: func(s *corev1.PodSpec) {
				s.Affinity = required(term(in("arm64")))
			},
			wantAllowed: []string{"arm64"},
		},
		{
			name:         "no common architecture",
			spec:         func() corev1.PodSpec { return pod("amd", "arm") },
			opts:         Options{ArmTaint: armTaint},
			wantAllowed:  []string{},
			wantFindings: []string{"no architecture runs every container"},
		},
		{
			// Writing In [arm] would pin it where no node is: a finding,
			// nothing written.
			name:         "architecture the cluster lacks: left as is, reported",
			spec:         func() corev1.PodSpec { return pod("v7") },
			wantAllowed:  []string{"arm"},
			wantFindings: []string{"no cluster architecture [amd64 arm64]"},
		},
		{
			name:        "unknown image: untouched, skipped",
			spec:        func() corev1.PodSpec { return pod("amd", "broken") },
			opts:        Options{ArmTaint: armTaint},
			wantSkipped: "image broken: unknown: registry: not found",
		},
		{
			name:        "image without a lookup: untouched, skipped",
			spec:        func() corev1.PodSpec { return pod("nowhere") },
			wantSkipped: "image nowhere: unknown: no lookup result",
		},
		{
			name: "amd64-only cluster with multi-arch image",
			spec: func() corev1.PodSpec { return pod("multi") },
			opts: Options{ClusterArchs: []string{"amd64"}, ArmTaint: armTaint, Prefer: map[string]int32{"arm64": 80}},
			// S ⊇ C: nothing required; arm64 not in the cluster: no toleration, no preference.
			wantAllowed: []string{"amd64", "arm64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.spec()
			orig := *in.DeepCopy()
			got := Place(&in, images, tt.opts)
			if !reflect.DeepEqual(orig, in) {
				t.Fatal("Place modified its input")
			}
			want := *in.DeepCopy()
			if tt.want != nil {
				tt.want(&want)
			}
			if diff := cmp.Diff(want, got.Spec); diff != "" {
				t.Errorf("spec mismatch (-want +got):\n%s", diff)
			}
			if got.Changed != (tt.want != nil) {
				t.Errorf("Changed = %v, want %v", got.Changed, tt.want != nil)
			}
			if got.Changed && len(got.Summary) == 0 {
				t.Error("changed without a summary line")
			}
			if got.Blocked != (len(got.Findings) > 0) || got.Blocked && got.Changed {
				t.Errorf("Blocked = %v with findings %q and Changed = %v; want blocked exactly when a finding leaves the spec as it was", got.Blocked, got.Findings, got.Changed)
			}
			if diff := cmp.Diff(tt.wantAllowed, got.Allowed); diff != "" {
				t.Errorf("Allowed mismatch (-want +got):\n%s", diff)
			}
			if len(got.Findings) != len(tt.wantFindings) {
				t.Fatalf("Findings = %q, want %d matching %q", got.Findings, len(tt.wantFindings), tt.wantFindings)
			}
			for i, f := range tt.wantFindings {
				if !strings.Contains(got.Findings[i], f) {
					t.Errorf("Findings[%d] = %q, want it to contain %q", i, got.Findings[i], f)
				}
			}
			if (got.Skipped == "") != (tt.wantSkipped == "") || !strings.Contains(got.Skipped, tt.wantSkipped) {
				t.Errorf("Skipped = %q, want %q", got.Skipped, tt.wantSkipped)
			}
			again := Place(&got.Spec, images, tt.opts)
			if again.Changed {
				t.Errorf("not idempotent: second Place changed the spec: %s", cmp.Diff(got.Spec, again.Spec))
			}
		})
	}
}

func TestPlaceNil(t *testing.T) {
	if got := Place(nil, nil, Options{}); got.Changed || got.Allowed != nil {
		t.Errorf("Place(nil) = %+v", got)
	}
}

func TestImages(t *testing.T) {
	s := pod("a", "b", "a")
	s.InitContainers = []corev1.Container{{Image: "i"}}
	s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Image: "e"}}, {}}
	if diff := cmp.Diff([]string{"i", "a", "b", "e"}, Images(&s)); diff != "" {
		t.Errorf("Images mismatch (-want +got):\n%s", diff)
	}
}

// linux is a lookup of an image with linux platforms of the given
// architectures, spelled as a registry may spell them.
func linux(archs ...string) lookup.Result {
	var r lookup.Result
	for _, a := range archs {
		r.Entries = append(r.Entries, lookup.Entry{Platform: platform.Normalize(platform.Platform{OS: "linux", Architecture: a})})
	}
	return r
}
